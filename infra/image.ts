/**
 * An image of the stack: a private ECR repository (scan on push, last 20 images kept, deleted with
 * its images by `pulumi destroy`) and the image built and pushed there (awsx.ecr.Image: needs a
 * Docker engine where `pulumi up` runs). Used for the app (root Dockerfile) and for the copy of the
 * ADOT collector (infra/collector/Dockerfile). `imageUri` names the pushed digest.
 */
import * as aws from '@pulumi/aws';
import * as awsx from '@pulumi/awsx';
import * as pulumi from '@pulumi/pulumi';

export interface ServiceImageArgs {
  readonly repositoryName: string;
  /** Absolute path of the Docker build context (the repository root). */
  readonly context: string;
  /** Absolute path of the Dockerfile. */
  readonly dockerfile: string;
  readonly platform: 'linux/amd64' | 'linux/arm64';
  readonly buildArgs?: Readonly<Record<string, string>>;
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export const KEEP_IMAGES = 20;

export class ServiceImage extends pulumi.ComponentResource {
  public readonly imageUri: pulumi.Output<string>;
  public readonly repositoryArn: pulumi.Output<string>;
  public readonly repositoryUrl: pulumi.Output<string>;
  /** The account's registry id (its account id). */
  public readonly registryId: pulumi.Output<string>;

  constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super('superschedules:embedding:Image', name, args, opts);
    if (!/^[a-z0-9][a-z0-9._/-]*$/.test(args.repositoryName)) throw new Error(`bad ECR repository name: ${args.repositoryName}`);
    if (!args.context.startsWith('/') || !args.dockerfile.startsWith('/')) {
      throw new Error('image context and dockerfile must be absolute paths');
    }
    const parent = { parent: this };

    const repository = new aws.ecr.Repository(
      `${name}-repo`,
      {
        name: args.repositoryName,
        imageScanningConfiguration: { scanOnPush: true },
        imageTagMutability: 'MUTABLE',
        // `pulumi destroy` would otherwise fail on a repository that still holds images.
        forceDelete: true,
        tags: args.tags,
      },
      parent,
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-lifecycle`,
      {
        repository: repository.name,
        policy: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              description: `keep the last ${KEEP_IMAGES} images`,
              selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: KEEP_IMAGES },
              action: { type: 'expire' },
            },
          ],
        }),
      },
      parent,
    );
    const image = new awsx.ecr.Image(
      `${name}-image`,
      {
        repositoryUrl: repository.repositoryUrl,
        context: args.context,
        dockerfile: args.dockerfile,
        platform: args.platform,
        args: { ...(args.buildArgs ?? {}) },
      },
      parent,
    );

    this.imageUri = image.imageUri;
    this.repositoryArn = repository.arn;
    this.repositoryUrl = repository.repositoryUrl;
    this.registryId = repository.registryId;
    this.registerOutputs({ imageUri: this.imageUri, repositoryUrl: this.repositoryUrl });
  }
}
