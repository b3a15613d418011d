import { callerOf, type HttpEvent, httpHandler, json, parsePath, parseQuery } from '#shared/http.ts';
import { ownedPage } from '#shared/pages/owned-page.ts';
import { ContactsQuery, PagePath } from '#shared/schemas.ts';
import { listContactsPage } from '#shared/store/contact-repository.ts';

/** Route `pageContacts` in shared/api/routes.ts, ?limit=&cursor= -> 200 {contacts, nextCursor} */
async function core(event: HttpEvent) {
  const { organizationId } = callerOf(event);
  const { pageId } = parsePath(event, PagePath);
  const { limit, cursor } = parseQuery(event, ContactsQuery);
  await ownedPage(pageId, organizationId);
  const { contacts, nextCursor } = await listContactsPage(pageId, organizationId, limit, cursor);
  // The organization is the caller's own and stays internal: keys are shown without its prefix.
  const shown = contacts.map(({ organizationId: _org, contactKey, ...contact }) => ({
    ...contact,
    contactKey: contactKey.slice(organizationId.length + 1),
  }));
  return json(200, { contacts: shown, nextCursor });
}

export const handler = httpHandler(core);
