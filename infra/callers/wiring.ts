/**
 * Stage 2: EMBEDDING_SERVICE_URL on every live client, one ServiceVariable per service (provider.ts).
 * Each waits for the embedding ECS service (dependsOn, and a steady-state check of its own), so one
 * `pulumi up` rolls the embedding service first and the clients only once it is healthy. Adding or
 * removing an entry creates or deletes only that service's ServiceVariable; deleting one (back to
 * stage 1, or `pulumi destroy`) registers the client's then-current definition without the variable.
 */
import * as pulumi from '@pulumi/pulumi';
import { ClientConfig } from '../config';
import { ServiceVariable } from './provider';

export interface ClientWiringArgs {
  /** The client entries, checked against the live account (lookup.ts). */
  readonly clients: readonly ClientConfig[];
  readonly clusterArn: string;
  readonly region: string;
  /** The stack's `aws:profile`, for the SDK calls (unset: the default credential chain). */
  readonly profile?: string;
  readonly variable: string;
  /** `http://embedding.<namespace>:8003` */
  readonly url: string;
  /** The embedding ECS service: must be steady before any client changes. */
  readonly embeddingService: { readonly cluster: pulumi.Input<string>; readonly service: pulumi.Input<string> };
  readonly rolloutAfter: pulumi.Resource[];
  /** Longest wait for a steady state, seconds (default 30 minutes). */
  readonly maxWaitSeconds?: number;
}

export const DEFAULT_MAX_WAIT_SECONDS = 30 * 60;
export const POLL_SECONDS = 15;

export class ClientWiring extends pulumi.ComponentResource {
  /** Client service → the revision carrying the variable. */
  public readonly taskDefinitionArns: pulumi.Output<Record<string, string>>;
  /** Client service → what it ran before stage 2 first set the variable (the rollback targets). */
  public readonly previousTaskDefinitionArns: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: ClientWiringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('superschedules:embedding:ClientWiring', name, {}, opts);
    if (!/^http:\/\/[a-z0-9.-]+:\d+$/.test(args.url)) throw new Error(`bad embedding service URL: ${args.url}`);
    if (args.clients.length === 0) throw new Error('no client to wire');
    const maxWaitSeconds = args.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS;

    const variables = args.clients.map(
      (entry) =>
        new ServiceVariable(
          `${entry.service}-url`,
          {
            region: args.region,
            profile: args.profile,
            cluster: args.clusterArn,
            service: entry.service,
            containers: [...entry.containers],
            variable: args.variable,
            value: args.url,
            after: args.embeddingService,
            maxWaitSeconds,
            pollSeconds: POLL_SECONDS,
          },
          { parent: this, dependsOn: args.rolloutAfter },
        ),
    );
    const byService = (pick: (v: ServiceVariable) => pulumi.Output<string>) =>
      pulumi.all(variables.map(pick)).apply((arns) => Object.fromEntries(args.clients.map((c, i) => [c.service, arns[i]])));
    this.taskDefinitionArns = byService((v) => v.taskDefinitionArn);
    this.previousTaskDefinitionArns = byService((v) => v.previousTaskDefinitionArn);
    this.registerOutputs({ taskDefinitionArns: this.taskDefinitionArns, previousTaskDefinitionArns: this.previousTaskDefinitionArns });
  }
}
