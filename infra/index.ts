/**
 * Entry point of the Pulumi program and the only place that reads stack configuration.
 *
 * Rollout order in one `pulumi up`: images (the app, the collector's copy) → embedding service
 * (waits for healthy tasks) → the Django and chat services (depend on it).
 * `embedding:wireClients=false` is stage 1: the embedding service alone, nothing of the clients.
 */
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
import { DEFAULT_MAX_ADMITTED_TEXTS } from '../app/defaults';
import { ClientService } from './clients';
import {
  CLOUD_MAP_SERVICE_NAME,
  EMBEDDING_PORT,
  EMBEDDING_SERVICE_NAME,
  LOG_GROUP_NAME,
  embeddingServiceUrl,
  parseStackConfig,
} from './config';
import { EmbeddingService, TaskEgress } from './embeddingService';
import { PrivateEndpoints } from './endpoints';
import { ServiceImage } from './image';
import { Observability } from './observability';
import { Platform } from './platform';

const embeddingConfig = new pulumi.Config('embedding');
const awsConfig = new pulumi.Config('aws');

// Raw values, unchecked here: parseStackConfig validates every one and reports all problems at once.
const config = parseStackConfig({
  region: awsConfig.get('region'),
  vpcId: embeddingConfig.get('vpcId'),
  subnetIds: embeddingConfig.getObject<unknown>('subnetIds'),
  routeTableIds: embeddingConfig.getObject<unknown>('routeTableIds'),
  clusterArn: embeddingConfig.get('clusterArn'),
  namespaceId: embeddingConfig.get('namespaceId'),
  namespaceName: embeddingConfig.get('namespaceName'),
  djangoSecurityGroupId: embeddingConfig.get('djangoSecurityGroupId'),
  chatSecurityGroupId: embeddingConfig.get('chatSecurityGroupId'),
  egress: embeddingConfig.get('egress'),
  existingEndpoints: embeddingConfig.getObject<unknown>('existingEndpoints'),
  desiredCount: embeddingConfig.getNumber('desiredCount'),
  cpu: embeddingConfig.getNumber('cpu'),
  memory: embeddingConfig.getNumber('memory'),
  logRetentionDays: embeddingConfig.getNumber('logRetentionDays'),
  logLevel: embeddingConfig.get('logLevel'),
  shutdownGraceMs: embeddingConfig.getNumber('shutdownGraceMs'),
  adotImage: embeddingConfig.get('adotImage'),
  slowRequestMs: embeddingConfig.getNumber('slowRequestMs'),
  alarmTopicArn: embeddingConfig.get('alarmTopicArn'),
  hfEndpoint: embeddingConfig.get('hfEndpoint'),
  imagePlatform: embeddingConfig.get('imagePlatform'),
  wireClients: embeddingConfig.getBoolean('wireClients'),
  django: embeddingConfig.getObject<unknown>('django'),
  chat: embeddingConfig.getObject<unknown>('chat'),
});

const tags = { project: 'superschedules', service: EMBEDDING_SERVICE_NAME, stack: pulumi.getStack() };
const cpuArchitecture = config.imagePlatform === 'linux/arm64' ? 'ARM64' : 'X86_64';
const metricsNamespace = 'Superschedules/EmbeddingService';
const repositoryRoot = path.resolve(__dirname, '..');
/**
 * Texts waiting in the queue (`embedding_queued_texts`) for 5 minutes that call for more tasks: a
 * quarter of what admission lets in (the app's default MAX_ADMITTED_TEXTS), which bounds the queue.
 */
const QUEUE_ALARM_TEXTS = DEFAULT_MAX_ADMITTED_TEXTS / 4;

const platform = new Platform('superschedules', {
  existingNetwork: config.existingNetwork,
  egress: config.egress,
  clusterArn: config.clusterArn,
  namespaceId: config.namespaceId,
  namespaceName: config.namespaceName,
  clientSecurityGroupIds: config.clientSecurityGroupIds,
  clusterName: 'superschedules',
  tags,
});

const endpoints =
  config.egress === 'endpoints'
    ? new PrivateEndpoints('private-egress', {
        vpcId: platform.vpcId,
        subnetIds: platform.subnetIds,
        routeTableIds: platform.routeTableIds,
        region: config.region,
        reuse: config.existingEndpoints,
        tags,
      })
    : undefined;
const egress: TaskEgress =
  endpoints === undefined
    ? { kind: 'existing' }
    : { kind: 'endpoints', vpcCidrPrefixListId: endpoints.vpcCidrPrefixListId, s3PrefixListId: endpoints.s3PrefixListId, ready: endpoints };

const image = new ServiceImage('embedding', {
  repositoryName: EMBEDDING_SERVICE_NAME,
  context: repositoryRoot,
  dockerfile: path.join(repositoryRoot, 'Dockerfile'),
  platform: config.imagePlatform,
  buildArgs: config.hfEndpoint !== undefined ? { HF_ENDPOINT: config.hfEndpoint } : {},
  tags,
});

// The collector, copied from its public registry into the stack's own: the task pulls nothing from
// outside the private registry (see infra/collector/Dockerfile).
const collectorDir = path.join(repositoryRoot, 'infra', 'collector');
const collector = new ServiceImage('otel-collector', {
  repositoryName: `${EMBEDDING_SERVICE_NAME}/otel-collector`,
  context: collectorDir,
  dockerfile: path.join(collectorDir, 'Dockerfile'),
  platform: config.imagePlatform,
  buildArgs: { COLLECTOR_IMAGE: config.adotImage },
  tags,
});

const observability = new Observability('embedding', {
  logGroupName: LOG_GROUP_NAME,
  retentionDays: config.logRetentionDays,
  clusterName: platform.clusterName,
  serviceName: EMBEDDING_SERVICE_NAME,
  metricsNamespace,
  slowRequestMs: config.slowRequestMs,
  queueAlarmTexts: QUEUE_ALARM_TEXTS,
  alarmTopicArn: config.alarmTopicArn,
  tags,
});

const embedding = new EmbeddingService('embedding', {
  serviceName: EMBEDDING_SERVICE_NAME,
  cloudMapServiceName: CLOUD_MAP_SERVICE_NAME,
  clusterArn: platform.clusterArn,
  vpcId: platform.vpcId,
  subnetIds: platform.subnetIds,
  namespaceId: platform.namespaceId,
  clientSecurityGroupIds: platform.clientSecurityGroupIds,
  egress,
  image: image.imageUri,
  collectorImage: collector.imageUri,
  repositoryArns: [image.repositoryArn, collector.repositoryArn],
  desiredCount: config.desiredCount,
  region: config.region,
  port: EMBEDDING_PORT,
  cpu: config.cpu,
  memory: config.memory,
  logLevel: config.logLevel,
  shutdownGraceMs: config.shutdownGraceMs,
  cpuArchitecture,
  logGroupName: observability.logGroupName,
  logGroupArn: observability.logGroupArn,
  metricsLogGroupName: observability.metricsLogGroupName,
  metricsLogGroupArn: observability.metricsLogGroupArn,
  metricsNamespace,
  tags,
});

const url = embeddingServiceUrl(config.namespaceName, EMBEDDING_PORT);
// Stage 1 registers nothing of the clients; stage 2 wires them and rolls them after the service.
const clients = config.wireClients
  ? config.clients.map(
      (client) =>
        new ClientService(client.kind, {
          client,
          clusterArn: platform.clusterArn,
          subnetIds: platform.subnetIds,
          securityGroupId: platform.clientSecurityGroupIds[client.kind],
          region: config.region,
          logRetentionDays: config.logRetentionDays,
          embeddingServiceUrl: url,
          rolloutAfter: [embedding.service],
          tags,
        }),
    )
  : [];

export const serviceUrl = url;
export const logGroupName = observability.logGroupName;
export const clusterName = platform.clusterName;
export const serviceName = embedding.serviceName;
export const queryNames = observability.queryNames;
export const alarmNames = [observability.serverErrorAlarmName, observability.runningTasksAlarmName, observability.queueAlarmName];
export const imageUri = image.imageUri;
export const collectorImageUri = collector.imageUri;
export const securityGroupId = embedding.securityGroupId;
export const clientsWired = config.wireClients;
export const clientServiceNames = clients.map((c) => c.serviceName);
