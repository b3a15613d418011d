import type { RemovalPolicy } from 'aws-cdk-lib';
import {
  type CfnStage,
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROUTE_NAMES, ROUTES, type RouteFunction, type RouteSpec } from '#shared/api/routes.ts';
import { acknowledge } from './nag.ts';

export interface ApiProps {
  /** JWT issuer URL (the authorizer fetches its JWKS from `<issuer>/.well-known/openid-configuration`). */
  jwtIssuer: string;
  /** Accepted `aud` values. */
  jwtAudience: string[];
  /** @default ['*'] */
  corsOrigins?: string[];
  /** The function of each route of the route table (shared/api/routes.ts), by its folder name. */
  handlers: Record<RouteFunction, IFunction>;
  /** Requests per second (steady, burst) before the API answers 429 Too Many Requests. */
  rateLimit: number;
  burstLimit: number;
  /** How long the access log keeps requests. */
  logRetention: RetentionDays;
  logRemovalPolicy: RemovalPolicy;
}

/**
 * The HTTP API, one route per entry of the route table: every route but the public ones sits
 * behind the JWT authorizer; claims reach handlers verified.
 * An access log records each request (never its headers or body, so no token or PII).
 */
export class Api extends Construct {
  readonly httpApi: HttpApi;
  readonly accessLog: LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const authorizer = new HttpJwtAuthorizer('JwtAuthorizer', props.jwtIssuer, {
      jwtAudience: props.jwtAudience,
    });
    this.httpApi = new HttpApi(this, 'HttpApi', {
      defaultAuthorizer: authorizer,
      corsPreflight: {
        allowOrigins: props.corsOrigins ?? ['*'],
        allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.PUT, CorsHttpMethod.DELETE],
        allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
        // A busy or throttled answer says when to come back; a browser client may read it.
        exposeHeaders: ['retry-after'],
      },
    });
    this.accessLog = new LogGroup(this, 'AccessLog', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    const stage = this.httpApi.defaultStage?.node.defaultChild as CfnStage;
    // A cap on what a runaway client can cost; a sync is one request, its work runs in Step Functions.
    stage.defaultRouteSettings = {
      throttlingRateLimit: props.rateLimit,
      throttlingBurstLimit: props.burstLimit,
    };
    stage.accessLogSettings = {
      destinationArn: this.accessLog.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        requestTime: '$context.requestTime',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
        authorizerError: '$context.authorizer.error',
        user: '$context.authorizer.claims.sub',
      }),
    };
    for (const name of ROUTE_NAMES) {
      const route: RouteSpec = ROUTES[name];
      const [added] = this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(
          `${route.method}${route.path}`.replace(/[^A-Za-z0-9]/g, ''),
          props.handlers[ROUTES[name].function],
        ),
        ...(route.public ? { authorizer: new HttpNoneAuthorizer() } : {}),
      });
      if (route.public && added)
        acknowledge(
          added,
          'Public by design: the API description, which holds no data',
          'AwsSolutions-APIG4',
        );
    }
  }

  /** The API's base URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com */
  get url(): string {
    return this.httpApi.apiEndpoint;
  }
}
