/**
 * How every ECS service here rolls: the new task must be healthy before the old one stops (no gap
 * with a single task), a deployment that never gets healthy rolls back, and `pulumi up` waits for
 * the service to be steady, which is what orders the staged rollout.
 */
export const ZERO_GAP_ROLLOUT = {
  deploymentMinimumHealthyPercent: 100,
  deploymentMaximumPercent: 200,
  deploymentCircuitBreaker: { enable: true, rollback: true },
  waitForSteadyState: true,
} as const;
