/**
 * The job statuses and the sets the rest of the system names them by. Dependency-free, so the
 * domain, the web console and the tests all read the same definitions.
 *
 *   PENDING -> IN_PROGRESS -> COMPLETED | FAILED | CANCELLED, and PENDING -> CANCELLED;
 *   PENDING | IN_PROGRESS -> PAUSED -> IN_PROGRESS (resume) | CANCELLED.
 *
 * Two words, two meanings:
 * - **active**: the job holds its page's lock (PENDING, IN_PROGRESS or PAUSED). No other sync of
 *   the page can start, and a cancel accepts it.
 * - **running**: work is under way or about to be (PENDING or IN_PROGRESS). A paused job is active
 *   but not running: nothing changes until it is resumed, so nobody needs to poll it.
 */
export const JOB_STATUSES = ['PENDING', 'IN_PROGRESS', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Hold the page lock; a cancel accepts them. */
export const ACTIVE_STATUSES = ['PENDING', 'IN_PROGRESS', 'PAUSED'] as const satisfies readonly JobStatus[];
/** Work is under way or queued; a pause accepts them. */
export const RUNNING_STATUSES = ['PENDING', 'IN_PROGRESS'] as const satisfies readonly JobStatus[];
/** Stopped before finishing; a retry accepts them. */
export const RETRYABLE_STATUSES = ['FAILED', 'CANCELLED'] as const satisfies readonly JobStatus[];

type ActiveStatus = (typeof ACTIVE_STATUSES)[number];
type RunningStatus = (typeof RUNNING_STATUSES)[number];
type RetryableStatus = (typeof RETRYABLE_STATUSES)[number];
type WithStatus = { status: JobStatus };

const member =
  <S extends JobStatus>(set: readonly S[]) =>
  (status: JobStatus | undefined | null): status is S =>
    status != null && (set as readonly JobStatus[]).includes(status);

export const isActiveStatus = member<ActiveStatus>(ACTIVE_STATUSES);
export const isRunningStatus = member<RunningStatus>(RUNNING_STATUSES);
export const isRetryableStatus = member<RetryableStatus>(RETRYABLE_STATUSES);

/** COMPLETED, FAILED or CANCELLED: the job will never change again (but for a cancel's cleanup). */
export const isTerminal = (status: JobStatus): boolean => !isActiveStatus(status);

/** The same tests on anything with a status (a job record, its public view), null-safe. */
export const isActive = <J extends WithStatus>(
  job: J | null | undefined,
): job is J & { status: ActiveStatus } => isActiveStatus(job?.status);
export const isRunning = <J extends WithStatus>(
  job: J | null | undefined,
): job is J & { status: RunningStatus } => isRunningStatus(job?.status);
export const isPaused = <J extends WithStatus>(job: J | null | undefined): job is J & { status: 'PAUSED' } =>
  job?.status === 'PAUSED';
export const isRetryable = <J extends WithStatus>(
  job: J | null | undefined,
): job is J & { status: RetryableStatus } => isRetryableStatus(job?.status);
