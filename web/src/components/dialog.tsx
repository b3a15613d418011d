import { type ReactNode, type RefObject, useEffect, useId, useRef } from 'react';

/**
 * A modal on the native <dialog>: the browser traps focus inside it, closes it on Escape and gives
 * focus back to the button that opened it. `initialFocus` takes the focus when it opens; `wide`
 * makes room for tables.
 */
export function Dialog(props: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer: ReactNode;
  initialFocus?: RefObject<HTMLElement | null>;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const { initialFocus } = props;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      dialog.showModal();
      initialFocus?.current?.focus();
    }
    if (!props.open && dialog.open) dialog.close();
  }, [props.open, initialFocus]);
  return (
    <dialog
      ref={ref}
      className={props.wide ? 'dialog dialog-wide' : 'dialog'}
      aria-labelledby={titleId}
      onClose={props.onClose}
    >
      <h2 id={titleId} className="dialog-title">
        {props.title}
      </h2>
      <div className="dialog-body">{props.children}</div>
      <div className="dialog-footer">{props.footer}</div>
    </dialog>
  );
}

/** An "Are you sure?" step: the safe choice has the focus, the confirming one names the action. */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  message: ReactNode;
  confirmLabel: string;
  cancelLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog
      open={props.open}
      title={props.title}
      onClose={props.onCancel}
      footer={
        <>
          {/* biome-ignore lint/a11y/noAutofocus: the safe choice takes the focus when the dialog opens */}
          <button type="button" className="button" autoFocus onClick={props.onCancel}>
            {props.cancelLabel}
          </button>
          <button type="button" className="button button-destructive-solid" onClick={props.onConfirm}>
            {props.confirmLabel}
          </button>
        </>
      }
    >
      <p>{props.message}</p>
    </Dialog>
  );
}
