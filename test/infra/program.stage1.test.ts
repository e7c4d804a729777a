/**
 * Stage 1 alone: the production config with `embedding:wireClients=false`. The embedding service
 * is deployed exactly as in prod; the client task definitions carry no EMBEDDING_SERVICE_URL and
 * their services do not wait for it.
 */
import { ProgramRun, VPC_CIDRS, runProgram, stackConfigFile } from './support/harness';
import { describeDeploySafety } from './support/deploy-safety';
import { describeInvariants } from './support/invariants';

const config: Record<string, string> = { ...stackConfigFile('prod'), 'embedding:wireClients': 'false', 'embedding:logRetentionDays': '14' };
let run: ProgramRun;

beforeAll(async () => {
  run = await runProgram(config, 'prod');
});

describeInvariants(() => run, {
  clientSecurityGroupIds: () => ({ django: config['embedding:djangoSecurityGroupId'], chat: config['embedding:chatSecurityGroupId'] }),
  clusterArn: () => config['embedding:clusterArn'],
  clusterName: 'superschedules-prod',
  namespaceId: () => config['embedding:namespaceId'],
  logRetentionDays: 14,
  cpu: '512',
  memory: '1024',
  wired: false,
  desiredCount: 1,
  imagePlatform: 'linux/amd64',
});

describeDeploySafety(() => run, {
  vpcCidrs: VPC_CIDRS[config['embedding:vpcId']],
  createdInterfaceEndpoints: ['ecr.api', 'ecr.dkr', 'logs', 'xray'],
  clientPublicIps: {},
  stage1: true,
  embeddingArchitecture: 'X86_64',
  clientArchitectures: {},
});
