import { type FormEvent, useState } from 'react';
import { errorMessage } from './sync-text.ts';

/**
 * A form that sends its trimmed fields once at a time: `submit` ignores a second submit while the
 * first is in flight, resets the form when `send` succeeds, and keeps the error's message to show.
 */
export function useFormSubmit(send: (field: (name: string) => string) => Promise<void>) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    const form = event.currentTarget;
    const data = new FormData(form);
    setBusy(true);
    setError(null);
    try {
      await send((name) => String(data.get(name) ?? '').trim());
      form.reset();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  return { error, busy, submit };
}
