import { z } from 'zod';

/** Graph timestamps look like 2022-07-12T19:11:07+0000 (no colon in the offset). */
export function parseGraphTime(value: string): Date {
  const normalized = value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
  const date = new Date(normalized);
  if (Number.isNaN(date.getTime())) throw new Error(`Unparseable Graph timestamp: ${value}`);
  return date;
}

const GraphTime = z.string().transform((value, ctx) => {
  try {
    return parseGraphTime(value).toISOString();
  } catch {
    ctx.addIssue({ code: 'custom', message: `invalid timestamp ${value}` });
    return z.NEVER;
  }
});

/** Messenger participants carry name/email, Instagram ones a username. Fields with no data are omitted. */
export const Participant = z.object({
  id: z.string(),
  name: z.string().nullish(),
  email: z.string().nullish(),
  username: z.string().nullish(),
});
export type Participant = z.infer<typeof Participant>;

export const Message = z.object({
  id: z.string(),
  created_time: GraphTime,
  from: Participant.optional(),
  to: z.object({ data: z.array(Participant) }).optional(),
  message: z.string().optional().default(''),
  attachments: z.object({ data: z.array(z.looseObject({ id: z.string().optional() })) }).optional(),
  sticker: z.string().optional(),
  is_unsupported: z.boolean().optional(),
});
export type Message = z.infer<typeof Message>;

const Paging = z
  .object({
    cursors: z.object({ before: z.string().optional(), after: z.string().optional() }).partial().optional(),
    next: z.string().optional(),
    previous: z.string().optional(),
  })
  .optional();

export const Conversation = z.object({
  id: z.string(),
  updated_time: GraphTime.optional(),
  message_count: z.number().int().optional(),
  participants: z.object({ data: z.array(Participant) }).optional(),
  messages: z.object({ data: z.array(Message), paging: Paging }).optional(),
});
export type Conversation = z.infer<typeof Conversation>;

export const ConversationList = z.object({ data: z.array(Conversation), paging: Paging });
export type ConversationList = z.infer<typeof ConversationList>;

export const GraphErrorBody = z.object({
  error: z.object({
    message: z.string().default(''),
    code: z.number().int(),
    error_subcode: z.number().int().optional(),
  }),
});

/** `/me?fields=id,name,instagram_business_account` read with a Page token: the page itself. */
export const TokenOwner = z.object({
  id: z.string(),
  name: z.string().optional(),
  instagram_business_account: z.object({ id: z.string() }).optional(),
});
export type TokenOwner = z.infer<typeof TokenOwner>;
