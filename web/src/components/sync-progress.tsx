import { isEstimated, percentText, plural } from '../sync-text.ts';
import type { SyncJob } from '../types.ts';

/**
 * The sync's progress bar: determinate with its percentage once the total is known, indeterminate
 * (no aria-valuenow, an animated stripe and the words "Counting conversations") before that. An
 * estimated percentage (the end of the conversation list is not known yet) still fills the bar,
 * and reads "about 40 %".
 */
export function SyncProgress({ job, pageName }: { job: SyncJob; pageName: string }) {
  const label = `Sync progress for ${pageName}`;
  const percent = percentText(job);
  if (job.progress === null || percent === null) {
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
  const estimated = isEstimated(job);
  return (
    <div className="progress-row">
      <div
        className={estimated ? 'progress progress-estimated' : 'progress'}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={job.progress}
        aria-valuetext={`${percent}, ${plural(job.syncedContacts, 'contact')} synced`}
        data-estimated={estimated || undefined}
      >
        <div className="progress-fill" style={{ width: `${job.progress}%` }} />
      </div>
      <span className="progress-text">{percent}</span>
    </div>
  );
}
