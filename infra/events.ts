import { Duration } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/**
 * Events in and out:
 * - `bus`: a custom bus for the job lifecycle events (source "contact-sync", shared/events/lifecycle.ts),
 *   so integrations subscribe with their own rules without seeing the account's other traffic;
 * - a rule on the default bus (where AWS services put their events) that sends this state
 *   machine's "Step Functions Execution Status Change" events to the execution mirror.
 */
export class Events extends Construct {
  readonly bus: EventBus;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { description: 'Contact Sync job lifecycle events' });
  }

  /**
   * Sends `stateMachine`'s execution status changes to `mirror` (functions/mirror-execution),
   * which writes each execution's status on its job.
   */
  mirrorExecutions(stateMachine: IStateMachine, mirror: IFunction): Rule {
    return new Rule(this, 'ExecutionStatusChange', {
      description: "Mirrors each sync execution's status on its job",
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [stateMachine.stateMachineArn] },
      },
      // A failed mirror write is retried; the write itself ignores stale reports.
      targets: [
        new LambdaFunction(mirror, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });
  }

  /**
   * Sends the events that end a job (completed, failed, cancelled) to `consumer`: work that must
   * follow a stop without holding up its acknowledgement (the staging store's delete).
   */
  onJobEnded(id: string, description: string, consumer: IFunction): Rule {
    return new Rule(this, id, {
      description,
      eventBus: this.bus,
      eventPattern: {
        source: ['contact-sync'],
        detailType: ['Sync Job Completed', 'Sync Job Failed', 'Sync Job Cancelled'],
      },
      targets: [new LambdaFunction(consumer, { retryAttempts: 8, maxEventAge: Duration.hours(2) })],
    });
  }

  /** The environment a publisher needs. */
  get environment(): Record<string, string> {
    return { EVENT_BUS_NAME: this.bus.eventBusName };
  }

  /** Lets `publisher` put lifecycle events on the bus (and nothing else). */
  grantPublish(publisher: IGrantable): void {
    this.bus.grantPutEventsTo(publisher);
  }
}
