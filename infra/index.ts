/**
 * Entry point of the Pulumi program and the only place that reads stack configuration.
 *
 * Rollout order in one `pulumi up`: image → embedding service (waits for a healthy task) → the
 * Django and chat services (depend on it). `embedding:wireClients=false` deploys stage 1 alone.
 */
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
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
        tags,
      })
    : undefined;
const egress: TaskEgress =
  endpoints === undefined
    ? { kind: 'existing' }
    : {
        kind: 'endpoints',
        endpointSecurityGroupId: endpoints.securityGroupId,
        s3PrefixListId: endpoints.s3PrefixListId,
        cacheRegistryId: endpoints.cacheRegistryId,
        cachePrefix: endpoints.cachePrefix,
        ready: endpoints,
      };

const image = new ServiceImage('embedding', {
  repositoryName: EMBEDDING_SERVICE_NAME,
  context: repositoryRoot,
  dockerfile: path.join(repositoryRoot, 'Dockerfile'),
  platform: config.imagePlatform,
  buildArgs: config.hfEndpoint !== undefined ? { HF_ENDPOINT: config.hfEndpoint } : {},
  tags,
});

const observability = new Observability('embedding', {
  logGroupName: LOG_GROUP_NAME,
  retentionDays: config.logRetentionDays,
  clusterName: platform.clusterName,
  serviceName: EMBEDDING_SERVICE_NAME,
  metricsNamespace,
  slowRequestMs: config.slowRequestMs,
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
  repositoryArn: image.repositoryArn,
  collectorImage: config.adotImage,
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
const clients = config.clients.map(
  (client) =>
    new ClientService(client.kind, {
      client,
      clusterArn: platform.clusterArn,
      subnetIds: platform.subnetIds,
      securityGroupId: platform.clientSecurityGroupIds[client.kind],
      region: config.region,
      logRetentionDays: config.logRetentionDays,
      embeddingServiceUrl: config.wireClients ? url : undefined,
      rolloutAfter: config.wireClients ? [embedding.service] : [],
      cpuArchitecture,
      tags,
    }),
);

export const serviceUrl = url;
export const logGroupName = observability.logGroupName;
export const clusterName = platform.clusterName;
export const serviceName = embedding.serviceName;
export const queryNames = observability.queryNames;
export const alarmNames = [observability.serverErrorAlarmName, observability.runningTasksAlarmName];
export const imageUri = image.imageUri;
export const securityGroupId = embedding.securityGroupId;
export const clientsWired = config.wireClients;
export const clientServiceNames = clients.map((c) => c.serviceName);
