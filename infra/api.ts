import { CorsHttpMethod, HttpApi, type HttpMethod, HttpNoneAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface ApiRoute {
  method: HttpMethod;
  path: string;
  handler: IFunction;
  /** Reachable without a token (the OpenAPI document). @default false */
  public?: boolean;
}

export interface ApiProps {
  /** JWT issuer URL (the authorizer fetches its JWKS from `<issuer>/.well-known/openid-configuration`). */
  jwtIssuer: string;
  /** Accepted `aud` values. */
  jwtAudience: string[];
  /** @default ['*'] */
  corsOrigins?: string[];
  routes: ApiRoute[];
}

/** The HTTP API: every route sits behind the JWT authorizer; claims reach handlers verified. */
export class Api extends Construct {
  readonly httpApi: HttpApi;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const authorizer = new HttpJwtAuthorizer('JwtAuthorizer', props.jwtIssuer, {
      jwtAudience: props.jwtAudience,
    });
    this.httpApi = new HttpApi(this, 'HttpApi', {
      defaultAuthorizer: authorizer,
      corsPreflight: {
        allowOrigins: props.corsOrigins ?? ['*'],
        allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.DELETE],
        allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
      },
    });
    for (const route of props.routes) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: new HttpLambdaIntegration(
          `${route.method}${route.path}`.replace(/[^A-Za-z0-9]/g, ''),
          route.handler,
        ),
        ...(route.public ? { authorizer: new HttpNoneAuthorizer() } : {}),
      });
    }
  }
}
