/**
 * The ServiceVariable provider (stage 2's change to the live clients) through the real AWS SDK
 * against a fake ECS endpoint serving the production account's rich task definitions: one variable
 * set, nothing else moved, UpdateService with the task definition alone, nothing ever deleted, and
 * what production does meanwhile (client deploys, rollbacks, fields newer than the SDK).
 */
import type { ServiceVariableInputs, ServiceVariableState } from '../../../infra/callers/provider';
import { serviceVariableProvider as provider } from '../../../infra/callers/provider';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { FakeEcs } from '../support/fake-ecs';
import { CELERY, CHAT, CLUSTER_ARN, DJANGO, EMBEDDING_SERVICE, LIVE_DEFINITIONS, LIVE_SERVICES, REGION } from '../support/live-account';

const URL = 'http://embedding.superschedules.local:8003';
const VARIABLE = 'EMBEDDING_SERVICE_URL';

let ecs: FakeEcs;
const saved = { ...process.env };

beforeEach(async () => {
  ecs = new FakeEcs(LIVE_DEFINITIONS, [...LIVE_SERVICES, EMBEDDING_SERVICE]);
  process.env.AWS_ENDPOINT_URL_ECS = await ecs.start();
  process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEFAKEFAKEFAKE';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret';
  delete process.env.AWS_PROFILE;
});

afterEach(async () => {
  await ecs.stop();
  process.env = { ...saved };
});

function inputs(service: string, containers: string[], over: Partial<ServiceVariableInputs> = {}): ServiceVariableInputs {
  return {
    region: REGION,
    profile: undefined,
    cluster: CLUSTER_ARN,
    service,
    containers,
    variable: VARIABLE,
    value: URL,
    after: { cluster: CLUSTER_ARN, service: 'embedding-service' },
    maxWaitSeconds: 5,
    pollSeconds: 0.01,
    ...over,
  };
}

const live = (service: string) => ecs.definition(String(ecs.service(service).taskDefinition));
/** The revision `after` is `before` plus the variable, nothing else (compared without the code under test). */
const expectOnlyVariableMoved = (before: string, after: string) =>
  expect(ecs.registeredWithout(after, VARIABLE)).toEqual(ecs.registeredWithout(before, VARIABLE));
const envOf = (d: { taskDefinition: unknown }, container: string) =>
  Object.fromEntries(((d.taskDefinition as TaskDefinition).containerDefinitions ?? []).find((c) => c.name === container)?.environment?.map((e) => [e.name, e.value]) ?? []);

async function create(i: ServiceVariableInputs): Promise<ServiceVariableState> {
  const result = await provider.create(i);
  return result.outs as ServiceVariableState;
}

describe('stage 2 on the three live clients', () => {
  const clients = [
    { service: 'superschedules-django', containers: ['django'], before: DJANGO },
    { service: 'superschedules-chat', containers: ['chat'], before: CHAT },
    { service: 'superschedules-celery-worker', containers: ['celery-worker'], before: CELERY },
  ];

  it('registers one revision per family that differs from the live one only by the variable, and points each service at it', async () => {
    for (const c of clients) await create(inputs(c.service, c.containers));
    expect(ecs.operations().filter((op) => op === 'RegisterTaskDefinition')).toHaveLength(3);
    for (const c of clients) {
      const family = String(c.before.taskDefinition.family);
      const [old, wired] = ecs.revisions(family);
      expect(old).toBe(c.before.taskDefinition.taskDefinitionArn);
      expect(ecs.service(c.service).taskDefinition).toBe(wired);
      expectOnlyVariableMoved(old, wired);
      expect(envOf(ecs.definition(wired), c.containers[0])[VARIABLE]).toBe(URL);
      const others = ((ecs.definition(wired).taskDefinition as TaskDefinition).containerDefinitions ?? []).filter((x) => !c.containers.includes(String(x.name)));
      for (const sidecar of others) expect(sidecar.environment?.some((e) => e.name === VARIABLE) ?? false).toBe(false);
    }
  });

  it('keeps sidecars, secrets, volumes, roles, FireLens, storage and its own tags; drops only the aws: tags ECS reserves', async () => {
    await create(inputs('superschedules-django', ['django']));
    const wired = ecs.definition(String(ecs.service('superschedules-django').taskDefinition));
    const td = wired.taskDefinition as TaskDefinition;
    expect(td.containerDefinitions?.map((c) => c.name)).toEqual(['django', 'log-router']);
    expect(td.containerDefinitions?.[0].secrets).toEqual(DJANGO.taskDefinition.containerDefinitions?.[0].secrets);
    expect(td.containerDefinitions?.[0].environmentFiles).toEqual(DJANGO.taskDefinition.containerDefinitions?.[0].environmentFiles);
    expect(td.containerDefinitions?.[1].firelensConfiguration).toEqual({ type: 'fluentbit', options: { 'enable-ecs-log-metadata': 'true' } });
    expect(td.volumes).toEqual(DJANGO.taskDefinition.volumes);
    expect([td.taskRoleArn, td.executionRoleArn, td.ephemeralStorage, td.runtimePlatform, td.cpu, td.memory]).toEqual([
      DJANGO.taskDefinition.taskRoleArn,
      DJANGO.taskDefinition.executionRoleArn,
      { sizeInGiB: 30 },
      DJANGO.taskDefinition.runtimePlatform,
      '1024',
      '2048',
    ]);
    expect(wired.tags).toEqual([{ key: 'team', value: 'backend' }]);
  });

  it('sends UpdateService with the cluster, the service and the task definition only (service registries, load balancers, network untouched)', async () => {
    for (const c of clients) await create(inputs(c.service, c.containers));
    const updates = ecs.calls.filter((c) => c.operation === 'UpdateService').map((c) => c.input);
    expect(updates).toHaveLength(3);
    for (const u of updates) expect(Object.keys(u).sort()).toEqual(['cluster', 'service', 'taskDefinition']);
    expect(ecs.service('superschedules-django').serviceRegistries).toEqual(LIVE_SERVICES[0].serviceRegistries);
  });

  it('waits for the embedding service to be steady before touching a client, and for the client after', async () => {
    ecs.pollsUntilSteady.set('embedding-service', 3);
    await create(inputs('superschedules-chat', ['chat']));
    const ops = ecs.calls.map((c) => `${c.operation}:${(c.input.services ?? [])[0] ?? ''}`);
    const firstRegister = ops.indexOf('RegisterTaskDefinition:');
    expect(ops.slice(0, 4)).toEqual(Array(4).fill('DescribeServices:embedding-service'));
    expect(firstRegister).toBeGreaterThan(3);
    expect(ops.slice(ops.indexOf('UpdateService:') + 1)).toContain('DescribeServices:superschedules-chat');
  });

  it('never deregisters or deletes anything, and records the revision to roll back to', async () => {
    const state = await create(inputs('superschedules-celery-worker', ['celery-worker']));
    expect(state.previousTaskDefinitionArn).toBe(CELERY.taskDefinition.taskDefinitionArn);
    expect(state.taskDefinitionArn).toBe(ecs.service('superschedules-celery-worker').taskDefinition);
    await provider.delete?.(String(state.taskDefinitionArn), state);
    expect(ecs.operations().filter((op) => /^(Deregister|Delete)/.test(op))).toEqual([]);
    for (const arn of ecs.revisions('superschedules-celery-worker')) expect(ecs.definition(arn).taskDefinition.status).toBe('ACTIVE');
  });
});

describe('drift: a client deploy that dropped the variable', () => {
  it('shows in diff and read, and update sets it again on top of their newest revision', async () => {
    const state = await create(inputs('superschedules-django', ['django']));
    const id = String(ecs.service('superschedules-django').serviceArn);
    expect(await provider.diff?.(id, state, inputs('superschedules-django', ['django']))).toEqual({ changes: false });

    // Their CI: a new image from their template, which has no EMBEDDING_SERVICE_URL.
    const theirs = ecs.clientDeploy('superschedules-django', (td) => {
      const [django] = td.containerDefinitions as { image: string; environment: { name: string }[] }[];
      django.image = django.image.replace('main-3e26f35', 'main-9d32c12');
      django.environment = django.environment.filter((e) => e.name !== VARIABLE);
    });
    expect(await provider.diff?.(id, state, inputs('superschedules-django', ['django']))).toEqual({ changes: true });
    const read = await provider.read?.(id, state);
    expect(read?.props).toMatchObject({ taskDefinitionArn: theirs, missing: ['django'] });

    const updated = (await provider.update?.(id, state, inputs('superschedules-django', ['django'])))?.outs as ServiceVariableState;
    const restored = live('superschedules-django');
    expect(updated.taskDefinitionArn).toBe(ecs.service('superschedules-django').taskDefinition);
    expectOnlyVariableMoved(theirs, updated.taskDefinitionArn);
    expect(envOf(restored, 'django')[VARIABLE]).toBe(URL);
    expect(updated.previousTaskDefinitionArn).toBe(DJANGO.taskDefinition.taskDefinitionArn);
  });
});

describe('leaving stage 2', () => {
  it('registers the then-current live definition without the variable and points the service at it', async () => {
    const state = await create(inputs('superschedules-chat', ['chat']));
    const theirs = ecs.clientDeploy('superschedules-chat', (td) => {
      (td.containerDefinitions as { image: string }[])[0].image += '-hotfix';
    });
    await provider.delete?.(String(state.taskDefinitionArn), state);
    const after = live('superschedules-chat');
    expect(ecs.service('superschedules-chat').taskDefinition).not.toBe(theirs);
    expect(envOf(after, 'chat')[VARIABLE]).toBeUndefined();
    // Their hotfix stays: only the variable went.
    expectOnlyVariableMoved(theirs, String(ecs.service('superschedules-chat').taskDefinition));
    expect(Object.keys(ecs.calls.filter((c) => c.operation === 'UpdateService').pop()?.input ?? {}).sort()).toEqual(['cluster', 'service', 'taskDefinition']);
  });

  it('leaves a variable that was there before stage 2, and does nothing for a service that is gone', async () => {
    ecs.clientDeploy('superschedules-celery-worker', (td) => {
      (td.containerDefinitions as { environment: object[] }[])[0].environment.push({ name: VARIABLE, value: URL });
    });
    const registered = ecs.revisions('superschedules-celery-worker').length;
    const state = await create(inputs('superschedules-celery-worker', ['celery-worker']));
    expect(state.preexisting).toBe(true);
    await provider.delete?.(String(state.taskDefinitionArn), state);
    expect(ecs.revisions('superschedules-celery-worker')).toHaveLength(registered);
    expect(envOf(live('superschedules-celery-worker'), 'celery-worker')[VARIABLE]).toBe(URL);

    const gone = { ...state, service: 'superschedules-retired', preexisting: false };
    await expect(provider.delete?.('x', gone)).resolves.toBeUndefined();
  });
});

describe('changing the entry', () => {
  it('a container added gets the variable; a container dropped loses it; a new value replaces the old in place', async () => {
    const first = await create(inputs('superschedules-chat', ['chat']));
    const both = (await provider.update?.('x', first, inputs('superschedules-chat', ['chat', 'datadog-agent'])))?.outs as ServiceVariableState;
    expect([envOf(live('superschedules-chat'), 'chat')[VARIABLE], envOf(live('superschedules-chat'), 'datadog-agent')[VARIABLE]]).toEqual([URL, URL]);
    const other = 'http://embedding.other.local:8003';
    await provider.update?.('x', both, inputs('superschedules-chat', ['chat'], { value: other }));
    expect(envOf(live('superschedules-chat'), 'chat')[VARIABLE]).toBe(other);
    expect(envOf(live('superschedules-chat'), 'datadog-agent')[VARIABLE]).toBeUndefined();
    const chatEnv = ((live('superschedules-chat').taskDefinition as TaskDefinition).containerDefinitions ?? [])[0].environment ?? [];
    expect(chatEnv.filter((e) => e.name === VARIABLE)).toHaveLength(1);
  });

  it('replaces (sets on the new service, then unsets on the old) when the service changes; updates when the containers change', async () => {
    const state = await create(inputs('superschedules-chat', ['chat']));
    expect(await provider.diff?.('x', state, inputs('superschedules-django', ['django']))).toMatchObject({ changes: true, replaces: ['service'] });
    expect(await provider.diff?.('x', state, inputs('superschedules-chat', ['chat', 'datadog-agent']))).toEqual({ changes: true });
  });
});

describe('what production does meanwhile', () => {
  it('a client deploy between our read and our update: starts again from their newest revision', async () => {
    let raced = false;
    ecs.afterRegister = () => {
      if (raced) return;
      raced = true;
      ecs.clientDeploy('superschedules-django', (td) => {
        (td.containerDefinitions as { image: string }[])[0].image += '-raced';
      });
    };
    await create(inputs('superschedules-django', ['django']));
    const final = live('superschedules-django');
    expect(((final.taskDefinition as TaskDefinition).containerDefinitions ?? [])[0].image).toMatch(/-raced$/);
    expect(envOf(final, 'django')[VARIABLE]).toBe(URL);
  });

  it('a deployment the circuit breaker rolled back fails the update, naming the service and the revisions', async () => {
    ecs.failingDeployments.add('superschedules-chat');
    await expect(create(inputs('superschedules-chat', ['chat']))).rejects.toThrow(
      /superschedules-chat is steady on superschedules-chat:17, not on superschedules-chat:18: ECS rolled the deployment back/,
    );
  });

  it('refuses a live definition with a field the SDK does not know (a copy would drop it), before registering anything', async () => {
    ecs.extraFields.set(String(DJANGO.taskDefinition.taskDefinitionArn), { containerDefinitions: [{ ...DJANGO.taskDefinition.containerDefinitions?.[0], restartAfterNap: true }, DJANGO.taskDefinition.containerDefinitions?.[1]] });
    await expect(create(inputs('superschedules-django', ['django']))).rejects.toThrow(
      /superschedules-django:41 has fields that @aws-sdk\/client-ecs does not know \(taskDefinition\.containerDefinitions\[0\]\.restartAfterNap\)/,
    );
    expect(ecs.operations()).not.toContain('RegisterTaskDefinition');
  });
});

describe('entries that cannot be wired', () => {
  it('a container the live definition lacks, or one that takes the variable from a secret', async () => {
    await expect(create(inputs('superschedules-django', ['web']))).rejects.toThrow(/container web is not in superschedules-django:41 \(it has django, log-router\)/);
    ecs.clientDeploy('superschedules-chat', (td) => {
      (td.containerDefinitions as { secrets: object[] }[])[0].secrets.push({ name: VARIABLE, valueFrom: 'arn:aws:ssm:us-east-1:123456789012:parameter/url' });
    });
    await expect(create(inputs('superschedules-chat', ['chat']))).rejects.toThrow(/takes EMBEDDING_SERVICE_URL from a secret/);
    expect(ecs.operations()).not.toContain('RegisterTaskDefinition');
  });

  it('a service that does not exist, or one deployed by CodeDeploy', async () => {
    await expect(create(inputs('superschedules-web', ['web']))).rejects.toThrow(/ECS service superschedules-web not found \(or INACTIVE\) in cluster/);
    ecs.service('superschedules-chat').deploymentController = { type: 'CODE_DEPLOY' };
    await expect(create(inputs('superschedules-chat', ['chat']))).rejects.toThrow(/uses the CODE_DEPLOY deployment controller/);
  });

  it('check reports bad inputs against their property', async () => {
    const result = await provider.check?.(inputs('x', ['a']), { ...inputs('x', ['a', 'a']), variable: 'NOT-A-NAME', pollSeconds: 0 });
    expect(result?.failures?.map((f) => f.property).sort()).toEqual(['containers', 'pollSeconds', 'variable']);
  });
});
