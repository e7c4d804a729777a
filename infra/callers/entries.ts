/**
 * What makes an `embedding:clients` entry wrong against the live account: a service that does not
 * exist or cannot take a new task definition, a container its task definition lacks, a security
 * group its tasks do not use. Pure: the program reads the account (lookup.ts) and asks here, so a
 * wrong entry fails `pulumi preview` with a message naming the entry and what was found instead.
 */
import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import type { ClientConfig } from '../config';
import { definitionProblems } from './definition';

/** The parts of a live ECS service (aws.ecs.getService) the checks need. */
export interface LiveService {
  readonly status: string;
  readonly taskDefinition: string;
  /** Security groups of its awsvpc tasks; undefined without an awsvpc network configuration. */
  readonly securityGroups?: readonly string[];
  /** ECS, CODE_DEPLOY or EXTERNAL. */
  readonly deploymentController: string;
}

/** What the account answered for one entry. */
export type LiveAnswer =
  | { readonly found: false; readonly error: string }
  | { readonly found: true; readonly service: LiveService; readonly containers: readonly ContainerDefinition[] };

/** Problems of one entry, each starting with its label (`embedding:clients[2] (superschedules-celery-worker)`). */
export function clientProblems(client: ClientConfig, clusterName: string, variable: string, answer: LiveAnswer): string[] {
  const at = client.label;
  if (!answer.found) return [`${at}: no ECS service ${client.service} in cluster ${clusterName} (${answer.error})`];
  const { service } = answer;
  const problems: string[] = [];
  if (service.status !== 'ACTIVE') problems.push(`${at}: the service is ${service.status}, not ACTIVE`);
  if (service.deploymentController !== 'ECS') {
    problems.push(`${at}: the service uses the ${service.deploymentController} deployment controller, whose task definition UpdateService cannot change`);
  }
  if (service.securityGroups === undefined) {
    problems.push(`${at}: the service has no awsvpc network configuration, so its tasks have no security group of their own to admit`);
  } else {
    for (const group of client.securityGroups.filter((g) => !service.securityGroups?.includes(g))) {
      problems.push(`${at}: security group ${group} is not used by the service (its tasks use ${service.securityGroups.join(', ') || 'none'})`);
    }
  }
  const definition = { taskDefinitionArn: service.taskDefinition, containerDefinitions: [...answer.containers] };
  problems.push(...definitionProblems(definition, client.containers, variable).map((p) => `${at}: ${p}`));
  return problems;
}
