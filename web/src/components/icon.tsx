import type { LucideIcon } from 'lucide-react';

/** A decorative icon (hidden from screen readers), turning while something is under way. */
export const icon = (Icon: LucideIcon, spinning = false) => (
  <Icon aria-hidden className={spinning ? 'icon spin' : 'icon'} />
);
