/**
 * Reads each `embedding:clients` entry's live service and task definition through the AWS
 * provider's data sources (aws.ecs.getService, aws.ecs.getTaskDefinition) and checks it
 * (entries.ts). Read-only: the stack never declares, imports or adopts the clients.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import { ClientConfig, clusterNameFromArn } from '../config';
import { LiveAnswer, clientProblems } from './entries';

/** A client as the account has it now. */
export interface LiveClient {
  readonly client: ClientConfig;
  /** The task definition the service runs now (recorded before stage 2 for the rollback). */
  readonly taskDefinitionArn: string;
}

export class ClientEntryError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`embedding:clients does not match the live services:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ClientEntryError';
  }
}

async function answerFor(client: ClientConfig, clusterArn: string, opts?: pulumi.InvokeOptions): Promise<LiveAnswer> {
  let service: aws.ecs.GetServiceResult;
  try {
    service = await aws.ecs.getService({ clusterArn, serviceName: client.service }, opts);
  } catch (err) {
    // The provider's reason, without the engine's "invocation of … 1 error occurred: *" wrapping.
    const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').replace(/^.*\* /, '');
    return { found: false, error: message };
  }
  const network = service.networkConfigurations?.[0];
  const definition = await aws.ecs.getTaskDefinition({ taskDefinition: service.taskDefinition }, opts);
  return {
    found: true,
    service: {
      status: service.status,
      taskDefinition: service.taskDefinition,
      securityGroups: network === undefined ? undefined : network.securityGroups,
      deploymentController: service.deploymentControllers?.[0]?.type ?? 'ECS',
    },
    containers: JSON.parse(definition.containerDefinitions) as ContainerDefinition[],
  };
}

/**
 * The live clients, once every entry checks out; otherwise a ClientEntryError listing every problem
 * of every entry (the preview fails with it).
 */
export async function readLiveClients(
  clients: readonly ClientConfig[],
  clusterArn: string,
  variable: string,
  opts?: pulumi.InvokeOptions,
): Promise<LiveClient[]> {
  const clusterName = clusterNameFromArn(clusterArn);
  const answers = await Promise.all(clients.map((client) => answerFor(client, clusterArn, opts)));
  const problems = answers.flatMap((answer, i) => clientProblems(clients[i], clusterName, variable, answer));
  if (problems.length > 0) throw new ClientEntryError(problems);
  return answers.map((answer, i) => ({ client: clients[i], taskDefinitionArn: answer.found ? answer.service.taskDefinition : '' }));
}
