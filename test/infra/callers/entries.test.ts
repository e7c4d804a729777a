/** What makes a client entry wrong against the live account (pure: the program test covers the lookups). */
import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import type { ClientConfig } from '../../../infra/config';
import { LiveAnswer, clientProblems } from '../../../infra/callers/entries';
import { ALB_TARGETS_SG, APP_SG, CHAT_SG, DJANGO } from '../support/live-account';

const entry = (over: Partial<ClientConfig> = {}): ClientConfig => ({
  label: 'embedding:clients[0] (superschedules-django)',
  service: 'superschedules-django',
  containers: ['django'],
  securityGroups: [APP_SG],
  ...over,
});
const live = (over: Partial<Extract<LiveAnswer, { found: true }>['service']> = {}): LiveAnswer => ({
  found: true,
  service: { status: 'ACTIVE', taskDefinition: String(DJANGO.taskDefinition.taskDefinitionArn), securityGroups: [APP_SG, ALB_TARGETS_SG], deploymentController: 'ECS', ...over },
  containers: DJANGO.taskDefinition.containerDefinitions as ContainerDefinition[],
});
const problems = (e: ClientConfig, answer: LiveAnswer) => clientProblems(e, 'superschedules-prod', 'EMBEDDING_SERVICE_URL', answer);

describe('clientProblems', () => {
  it('accepts an entry that matches: any one of the service groups, a container it has', () => {
    expect(problems(entry(), live())).toEqual([]);
    expect(problems(entry({ securityGroups: [ALB_TARGETS_SG], containers: ['django', 'log-router'] }), live())).toEqual([]);
  });

  it('a missing service: the cluster and the provider reason', () => {
    expect(problems(entry(), { found: false, error: "couldn't find resource" })).toEqual([
      "embedding:clients[0] (superschedules-django): no ECS service superschedules-django in cluster superschedules-prod (couldn't find resource)",
    ]);
  });

  it('a group the tasks do not use, a container the definition lacks: what is there instead', () => {
    expect(problems(entry({ securityGroups: [CHAT_SG], containers: ['web'] }), live())).toEqual([
      `embedding:clients[0] (superschedules-django): security group ${CHAT_SG} is not used by the service (its tasks use ${APP_SG}, ${ALB_TARGETS_SG})`,
      'embedding:clients[0] (superschedules-django): container web is not in superschedules-django:41 (it has django, log-router)',
    ]);
  });

  it('a service that cannot take a new task definition through UpdateService, or has no awsvpc groups', () => {
    expect(problems(entry(), live({ status: 'DRAINING', deploymentController: 'CODE_DEPLOY', securityGroups: undefined }))).toEqual([
      'embedding:clients[0] (superschedules-django): the service is DRAINING, not ACTIVE',
      'embedding:clients[0] (superschedules-django): the service uses the CODE_DEPLOY deployment controller, whose task definition UpdateService cannot change',
      'embedding:clients[0] (superschedules-django): the service has no awsvpc network configuration, so its tasks have no security group of their own to admit',
    ]);
  });
});
