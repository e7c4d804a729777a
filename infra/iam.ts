/** Trust policy of every ECS task and execution role: only the ECS tasks service may assume it. */
export const ASSUME_ECS_TASKS = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
