/**
 * Client entries that do not match the live account fail the preview, all at once, each problem
 * naming its entry and what the account has instead: a service that does not exist, a container
 * its task definition lacks, a security group its tasks do not use. Stage 2, so that nothing would
 * be wired either.
 */
import { ProgramRun, runProgram, stackConfigFile, toConfigMap } from './support/harness';
import { ALB_TARGETS_SG, APP_SG, CHAT_SG } from './support/live-account';

const config = {
  ...stackConfigFile('prod'),
  ...toConfigMap({
    'embedding:wireClients': true,
    'embedding:clients': [
      { service: 'superschedules-django', containers: ['web'], securityGroups: [APP_SG] },
      { service: 'superschedules-chat', containers: ['chat'], securityGroups: [APP_SG] },
      { service: 'superschedules-celery', containers: ['celery-worker'], securityGroups: [APP_SG] },
    ],
  }),
};
let run: ProgramRun;

beforeAll(async () => {
  run = await runProgram(config, 'prod');
});

describe('wrong client entries', () => {
  const message = () => run.error?.message ?? '';

  it('fail with one error listing every wrong entry', () => {
    expect(message()).toMatch(/^embedding:clients does not match the live services:/);
    expect(message().split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(3);
  });

  it('a container the live task definition does not have: names the revision and its containers', () => {
    expect(message()).toContain('embedding:clients[0] (superschedules-django): container web is not in superschedules-django:41 (it has django, log-router)');
  });

  it('a security group the service does not use: names the groups its tasks use', () => {
    expect(message()).toContain(`embedding:clients[1] (superschedules-chat): security group ${APP_SG} is not used by the service (its tasks use ${CHAT_SG})`);
  });

  it('a service that does not exist: names the cluster', () => {
    expect(message()).toMatch(/embedding:clients\[2\] \(superschedules-celery\): no ECS service superschedules-celery in cluster superschedules-prod \(.*couldn't find resource/);
  });

  it('fails before anything is declared: nothing admitted, nothing wired', () => {
    expect(run.resources).toEqual([]);
    expect(run.calls.filter((c) => c.token === 'aws:ecs/getService:getService')).toHaveLength(3);
  });

  it('a service with several groups may list any of them (Django also runs in its ALB-targets group)', () => {
    expect(message()).not.toContain(ALB_TARGETS_SG);
  });
});
