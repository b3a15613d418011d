import type { SyncJob } from '../types.ts';
import { plural } from '../use-connected-pages.ts';

/**
 * The sync's progress bar: determinate with its percentage once the total is known, indeterminate
 * (no aria-valuenow, an animated stripe and the words "Counting conversations") before that.
 */
export function SyncProgress({ job, pageName }: { job: SyncJob; pageName: string }) {
  const label = `Sync progress for ${pageName}`;
  if (job.progress === null) {
    return (
      <div className="progress-row">
        <div
          className="progress progress-indeterminate"
          role="progressbar"
          aria-label={label}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuetext="Counting conversations"
        >
          <div className="progress-fill" />
        </div>
        <span className="progress-text">Counting…</span>
      </div>
    );
  }
  return (
    <div className="progress-row">
      <div
        className="progress"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={job.progress}
        aria-valuetext={`${job.progress}%, ${plural(job.syncedContacts, 'contact')} synced`}
      >
        <div className="progress-fill" style={{ width: `${job.progress}%` }} />
      </div>
      <span className="progress-text">{job.progress}%</span>
    </div>
  );
}
