/**
 * Stage 2: the production stack file with its one explicit change, `embedding:wireClients=true`.
 * The program registers one ServiceVariable per client; then the provider exactly as Pulumi ships
 * it (the serialized `__provider` the program registered) runs in a plain Node process against a
 * fake ECS endpoint serving the same production account, with the inputs the program registered:
 * exactly the three task definitions change, by one variable each.
 */
import { ProgramRun, runProgram, stackConfigFile } from './support/harness';
import { describeDeploySafety } from './support/deploy-safety';
import { T, describeInvariants, productionExpectations, embeddingService } from './support/invariants';
import { FakeEcs } from './support/fake-ecs';
import { runSerializedProvider } from './support/provider-host';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { CLUSTER_ARN, EMBEDDING_SERVICE, LIVE_DEFINITIONS, LIVE_SERVICES, PROD_CLIENTS } from './support/live-account';

const config: Record<string, string> = { ...stackConfigFile('prod'), 'embedding:wireClients': 'true' };
let run: ProgramRun;

beforeAll(async () => {
  run = await runProgram(config, 'prod');
});

describeInvariants(() => run, productionExpectations(config));

describeDeploySafety(() => run, { vpcCidrs: [], createdInterfaceEndpoints: [], embeddingArchitecture: 'X86_64' });

describe('stage 2 in the program', () => {
  const variables = () => run.ofType(T.serviceVariable);

  it('one ServiceVariable per client entry, naming its service and containers, in the production cluster', () => {
    expect(variables().map((v) => [v.name, v.inputs.service, v.inputs.containers, v.inputs.cluster])).toEqual(
      PROD_CLIENTS.map((c) => [`${c.service}-url`, c.service, c.containers, CLUSTER_ARN]),
    );
  });

  it('each waits for the embedding service: dependsOn its ECS service, and its own steady-state check of it first', () => {
    for (const v of variables()) {
      expect(v.dependencies).toContain(embeddingService(run).urn);
      expect(v.inputs.after).toEqual({ cluster: CLUSTER_ARN, service: 'embedding-service' });
      expect(v.parent).toMatch(/::superschedules:embedding:ClientWiring::clients$/);
    }
  });

  it('is not retained or protected: leaving stage 2 runs its delete, which takes the variable off again', () => {
    for (const v of variables()) expect(v.retainOnDelete).toBe(false);
  });

  it('exports the wired revisions and the ones to roll back to', () => {
    expect(run.outputs.preStage2TaskDefinitions).toEqual(Object.fromEntries(LIVE_SERVICES.map((s) => [s.serviceName, s.taskDefinition])));
    expect(Object.keys(run.outputs.wiredTaskDefinitions)).toEqual(PROD_CLIENTS.map((c) => c.service));
  });
});

describe('stage 2 against the live account (the serialized provider, the real SDK, a fake ECS)', () => {
  let ecs: FakeEcs;

  beforeAll(async () => {
    ecs = new FakeEcs(LIVE_DEFINITIONS, [...LIVE_SERVICES, EMBEDDING_SERVICE]);
    const endpoint = await ecs.start();
    const env = { PATH: process.env.PATH, AWS_ENDPOINT_URL_ECS: endpoint, AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fake' };
    const resources = run.ofType(T.serviceVariable);
    const [provider] = new Set(resources.map((r) => r.inputs.__provider as string));
    const calls = resources.map((r) => {
      const { __provider: _, ...inputs } = r.inputs;
      return { method: 'create' as const, args: [inputs] };
    });
    await runSerializedProvider(provider, calls, env);
  }, 60_000);

  afterAll(() => ecs.stop());

  it('registers exactly three revisions, one per client family, and updates exactly those three services', () => {
    const registered = ecs.calls.filter((c) => c.operation === 'RegisterTaskDefinition').map((c) => c.input.family);
    expect(registered).toEqual(PROD_CLIENTS.map((c) => c.service));
    const updates = ecs.calls.filter((c) => c.operation === 'UpdateService').map((c) => c.input);
    expect(updates.map((u) => u.service)).toEqual(PROD_CLIENTS.map((c) => c.service));
    for (const u of updates) expect(Object.keys(u).sort()).toEqual(['cluster', 'service', 'taskDefinition']);
    expect(ecs.operations().filter((op) => /^(Deregister|Delete|Create)/.test(op))).toEqual([]);
  });

  it('each new revision is the live one plus EMBEDDING_SERVICE_URL in the named container, nothing else', () => {
    for (const client of PROD_CLIENTS) {
      const [beforeArn, afterArn] = ecs.revisions(client.service);
      expect(ecs.registeredWithout(afterArn, 'EMBEDDING_SERVICE_URL')).toEqual(ecs.registeredWithout(beforeArn, 'EMBEDDING_SERVICE_URL'));
      const after = ecs.definition(afterArn);
      expect(after.tags).toEqual(ecs.definition(beforeArn).tags.filter((t) => !String(t.key).startsWith('aws:')));
      const containers = (after.taskDefinition as TaskDefinition).containerDefinitions ?? [];
      const withUrl = containers.filter((c) => c.environment?.some((e) => e.name === 'EMBEDDING_SERVICE_URL' && e.value === 'http://embedding.superschedules.local:8003'));
      expect(withUrl.map((c) => c.name)).toEqual(client.containers);
      expect(ecs.service(client.service).taskDefinition).toBe(after.taskDefinition.taskDefinitionArn);
    }
  });
});
