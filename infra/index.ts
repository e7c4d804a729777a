/**
 * Entry point of the Pulumi program and the only place that reads stack configuration.
 *
 * An async program (Pulumi runs the exported function and takes what it returns as the stack
 * outputs): the clients listed in `embedding:clients` are read and checked against the live account
 * first, so a wrong entry fails the preview before anything is declared. Then, in one `pulumi up`:
 * images (the app, the collector's copy) → embedding service (waits for healthy tasks) → stage 2
 * only (`embedding:wireClients=true`): EMBEDDING_SERVICE_URL on each client's task definition,
 * after the embedding service is steady. Stage 1, the default, changes nothing of the clients:
 * they are only read.
 */
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
import { DEFAULT_MAX_ADMITTED_TEXTS } from '../app/defaults';
import { ClientWiring } from './callers/wiring';
import { readLiveClients } from './callers/lookup';
import {
  CLIENT_URL_VARIABLE,
  CLOUD_MAP_SERVICE_NAME,
  EMBEDDING_PORT,
  EMBEDDING_SERVICE_NAME,
  LOG_GROUP_NAME,
  embeddingServiceUrl,
  RETIRED_KEYS,
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
  clients: embeddingConfig.getObject<unknown>('clients'),
  // Retired keys, read only to refuse them.
  ...Object.fromEntries(RETIRED_KEYS.map((key) => [key, embeddingConfig.get(key)])),
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

export = async () => {
  // Every client entry checked against the live account (its service, containers and security
  // groups) before anything is declared: a wrong entry fails the preview with every problem listed.
  const liveClients =
    config.clusterArn !== undefined && config.clients.length > 0 ? await readLiveClients(config.clients, config.clusterArn, CLIENT_URL_VARIABLE) : [];

  const platform = new Platform('superschedules', {
    existingNetwork: config.existingNetwork,
    egress: config.egress,
    clusterArn: config.clusterArn,
    namespaceId: config.namespaceId,
    namespaceName: config.namespaceName,
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
      ? { kind: 'internet', publicIp: config.egress === 'public-ip' }
      : { kind: 'endpoints', vpcCidrPrefixListId: endpoints.vpcCidrPrefixListId, s3PrefixListId: endpoints.s3PrefixListId, ready: endpoints };

  // Port 8003 admits exactly the clients' security groups (each once) and, in a VPC this stack
  // created, its `callers` group.
  const callerGroups: Record<string, pulumi.Input<string>> = Object.fromEntries(config.clientSecurityGroupIds.map((group) => [group, group]));
  if (platform.callerSecurityGroupId !== undefined) callerGroups.callers = platform.callerSecurityGroupId;

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
    clientSecurityGroupIds: callerGroups,
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
  // Stage 2 only: one variable on each live client, after the embedding service is steady.
  const wiring =
    config.wireClients && config.clusterArn !== undefined
      ? new ClientWiring('clients', {
          clients: config.clients,
          clusterArn: config.clusterArn,
          region: config.region,
          profile: awsConfig.get('profile'),
          variable: CLIENT_URL_VARIABLE,
          url,
          embeddingService: { cluster: platform.clusterArn, service: embedding.serviceName },
          rolloutAfter: [embedding.service],
        })
      : undefined;

  return {
    serviceUrl: url,
    logGroupName: observability.logGroupName,
    clusterName: platform.clusterName,
    serviceName: embedding.serviceName,
    queryNames: observability.queryNames,
    alarmNames: [observability.serverErrorAlarmName, observability.runningTasksAlarmName, observability.queueAlarmName],
    imageUri: image.imageUri,
    collectorImageUri: collector.imageUri,
    securityGroupId: embedding.securityGroupId,
    callerSecurityGroupId: platform.callerSecurityGroupId,
    clientsWired: config.wireClients,
    /** Each client service and the task definition it ran when this program read it: record it before stage 2. */
    clientTaskDefinitions: Object.fromEntries(liveClients.map((c) => [c.client.service, c.taskDefinitionArn])),
    /** Stage 2: each client service and the revision carrying EMBEDDING_SERVICE_URL. */
    wiredTaskDefinitions: wiring?.taskDefinitionArns ?? {},
    /** Stage 2: what each client ran before stage 2 first set the variable (the rollback targets). */
    preStage2TaskDefinitions: wiring?.previousTaskDefinitionArns ?? {},
  };
};
