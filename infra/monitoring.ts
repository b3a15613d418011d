import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, METRICS_SERVICE } from './sync-function.ts';

export interface MonitoringProps {
  stateMachine: IStateMachine;
  /** Every function of the product, by a readable name (the alarm and widget labels). */
  functions: Record<string, IFunction>;
  httpApi: IHttpApi;
  /** Gets every alarm by email (AWS sends a confirmation first). */
  alarmEmail?: string;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms on what needs a human (a failed or throttled execution, a Lambda error or throttle),
 * sent to one SNS topic, and one dashboard with the product's own numbers next to AWS's.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    // CloudWatch must be able to use the topic's key, which an AWS managed key does not allow.
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'Encrypts Contact Sync alarm notifications',
      enableKeyRotation: true,
      // It guards notifications in flight only: nothing to keep once the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Alarms', {
      displayName: 'Contact Sync alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const machine = props.stateMachine;
    this.alarm('ExecutionsFailed', 'A sync execution failed', machine.metricFailed());
    this.alarm('ExecutionsTimedOut', 'A sync execution timed out', machine.metricTimedOut());
    this.alarm('ExecutionsThrottled', 'Step Functions throttled a sync execution', machine.metricThrottled());
    for (const [name, fn] of Object.entries(props.functions)) {
      this.alarm(`${name}Errors`, `The ${name} function reported an error`, fn.metricErrors());
      this.alarm(`${name}Throttles`, `The ${name} function was throttled`, fn.metricThrottles());
    }

    const product = (metricName: string, statistic = 'Sum') =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: METRICS_SERVICE },
        statistic,
        period: FIVE_MINUTES,
      });
    const perFunction = (metric: (fn: IFunction) => IMetric) =>
      Object.entries(props.functions).map(([name, fn]) => (metric(fn) as Metric).with({ label: name }));
    const graph = (title: string, left: IMetric[], width = 8) => new GraphWidget({ title, left, width });

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(6) });
    this.dashboard.addWidgets(
      graph(
        'Syncs',
        ['SyncsStarted', 'SyncsCompleted', 'SyncsCancelled', 'SyncsFailed'].map((m) => product(m)),
      ),
      graph('Contacts', [product('ContactsSynced'), product('ContactsFailed')]),
      graph('Cancel latency (ms)', [
        product('CancelLatency', 'p50').with({ label: 'p50' }),
        product('CancelLatency', 'p99').with({ label: 'p99' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Executions', [
        machine.metricStarted(),
        machine.metricSucceeded(),
        machine.metricAborted(),
        machine.metricFailed(),
        machine.metricTimedOut(),
      ]),
      graph('API', [
        props.httpApi.metricClientError(),
        props.httpApi.metricServerError(),
        props.httpApi.metricLatency({ statistic: 'p99' }),
      ]),
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 8, height: 6 }),
    );
    this.dashboard.addWidgets(
      graph(
        'Lambda errors',
        perFunction((fn) => fn.metricErrors()),
        12,
      ),
      graph(
        'Lambda throttles',
        perFunction((fn) => fn.metricThrottles()),
        12,
      ),
    );
  }

  /** An alarm that fires on any occurrence within five minutes, and notifies the topic. */
  private alarm(id: string, description: string, metric: IMetric): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: `Contact Sync: ${description}`,
      metric: (metric as Metric).with({ statistic: 'Sum', period: FIVE_MINUTES }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
