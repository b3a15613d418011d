import { pick, type Rng, randomInt } from '../../prng.ts';
import type { SimTopic } from './sim-types.ts';

/** What the demo data's people are called and say: names, topics' phrases, stickers. */

export const FIRST_NAMES = [
  'Emma',
  'Liam',
  'Olivia',
  'Noah',
  'Ava',
  'Lucas',
  'Sophia',
  'Mateo',
  'Mia',
  'Ethan',
  'Isabella',
  'James',
  'Amelia',
  'Leo',
  'Harper',
  'Hugo',
  'Chloe',
  'Omar',
  'Fatima',
  'Yuki',
  'Hana',
  'Diego',
  'Lucia',
  'Arjun',
  'Priya',
  'Wei',
  'Mei',
  'Kwame',
  'Amara',
  'Sven',
  'Ingrid',
  'Pierre',
  'Camille',
  'Marco',
  'Giulia',
  'Tomasz',
  'Zofia',
  'Ahmed',
  'Layla',
  'Carlos',
  'Ana',
  'Jonas',
  'Lea',
  'Ibrahim',
  'Nora',
  'Daniel',
  'Sara',
  'Victor',
  'Elena',
  'Samuel',
] as const;

export const LAST_NAMES = [
  'Smith',
  'Garcia',
  'Martin',
  'Muller',
  'Rossi',
  'Kowalski',
  'Nguyen',
  'Kim',
  'Tanaka',
  'Silva',
  'Johnson',
  'Brown',
  'Dubois',
  'Fischer',
  'Lopez',
  'Khan',
  'Patel',
  'Chen',
  'Wang',
  'Okafor',
  'Mensah',
  'Larsen',
  'Andersson',
  'Novak',
  'Horvat',
  'Petrov',
  'Yilmaz',
  'Haddad',
  'Costa',
  'Moreau',
  'Schmidt',
  'Ricci',
  'Jansen',
  'Nielsen',
  'Murphy',
  'Walsh',
  'Cohen',
  'Singh',
  'Sato',
  'Alves',
] as const;

const PRODUCTS = [
  'leather backpack',
  'ceramic mug set',
  'running shoes',
  'linen shirt',
  'desk lamp',
  'yoga mat',
  'gift card',
  'wireless speaker',
  'scented candle',
  'wool scarf',
  'phone case',
  'coffee grinder',
] as const;

const CITIES = [
  'Lisbon',
  'Berlin',
  'Lyon',
  'Austin',
  'Toronto',
  'Dublin',
  'Madrid',
  'Milan',
  'Krakow',
] as const;
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const HOURS = ['9am', '10am', '11:30am', '2pm', '3pm', '4:30pm', '6pm'] as const;

export const CUSTOMER_OPENERS: Record<SimTopic, readonly string[]> = {
  pricing: [
    'Hi, how much does the {product} cost?',
    "What's the price of the {product}?",
    'Hello! Do you have any discount on the {product}?',
    'Is there a bulk price if I order 10 of the {product}?',
    'How much is the {product} with shipping to {city}?',
  ],
  order_status: [
    'Hi, where is my order #{order}?',
    'I ordered a {product} last week and still have not received anything.',
    'Can you send me the tracking number for order #{order}?',
    'Has my order #{order} shipped yet?',
  ],
  complaint: [
    'The {product} I received is damaged. Really disappointed.',
    'This is the second time my order is late, this is unacceptable.',
    'Nobody answered my email about order #{order}, terrible service.',
    'The {product} stopped working after two days. I want my money back.',
  ],
  booking: [
    'Hi, can I book an appointment for {day} at {hour}?',
    'Do you have availability next {day}?',
    "I'd like to reschedule my booking to {day} please.",
    'Can I reserve a table for 4 on {day} at {hour}?',
  ],
  product: [
    'Is the {product} available in blue?',
    'Do you still have the {product} in stock?',
    'Does the {product} come in a bigger size?',
    'Is the {product} waterproof?',
  ],
  returns: [
    'How do I return the {product}?',
    "I'd like to cancel my order #{order}.",
    'Can I exchange the {product} for another colour?',
    'What is your refund policy?',
  ],
  shipping: [
    'Do you ship to {city}?',
    'How long does delivery to {city} take?',
    'Is express shipping available for the {product}?',
    'Can I pick up my order in store instead of delivery?',
  ],
  hours: [
    'What are your opening hours on {day}?',
    'Are you open on Sunday?',
    'Where is your shop located?',
    'Is the store in {city} open today?',
  ],
};

export const CUSTOMER_FOLLOW_UPS: Record<SimTopic, readonly string[]> = {
  pricing: [
    'Is that price including VAT?',
    'Ok and if I buy two?',
    'That is a bit expensive.',
    'Any promo code?',
  ],
  order_status: ['Still nothing arrived today.', 'The tracking page says pending.', 'When will it arrive?'],
  complaint: [
    'I want a refund.',
    'This is really frustrating.',
    'I will leave a bad review if this is not fixed.',
  ],
  booking: ['Great, please confirm the booking.', 'Can I come 30 minutes later?', 'Is a deposit required?'],
  product: ['What about black?', 'Do you have a size chart?', 'When will it be back in stock?'],
  returns: ['Do I need the original box?', 'How long does the refund take?', 'I sent it back yesterday.'],
  shipping: ['How much is shipping?', 'Do you deliver on weekends?', 'Can you ship it today?'],
  hours: ['And on holidays?', 'Is there parking nearby?', 'Thanks, see you {day}!'],
};

export const GENERIC_CUSTOMER = [
  'Hello?',
  'Thanks a lot!',
  'Perfect, thank you 🙏',
  'Ok',
  'Any update?',
  'Thank you for the quick reply!',
  '👍',
] as const;

export const BUSINESS_REPLIES: Record<SimTopic, readonly string[]> = {
  pricing: [
    'Hi! The {product} is {price}.',
    'Thanks for reaching out! The {product} costs {price}, and shipping is free over $50.',
    'We have 10% off this week with code WELCOME10.',
  ],
  order_status: [
    'Sorry for the wait! Your order #{order} shipped yesterday, tracking: TRK{order}.',
    'Let me check order #{order} for you.',
    'Your order is on its way and should arrive within 2 business days.',
  ],
  complaint: [
    "We're so sorry to hear that. Could you send us a photo of the {product}?",
    'Apologies for the trouble, we will send a replacement right away.',
    'We have issued a full refund for order #{order}.',
  ],
  booking: [
    'Yes, {day} at {hour} is available. Shall I confirm it?',
    'Your booking is confirmed for {day} at {hour}. See you then!',
    "We're fully booked that day, would {day} work instead?",
  ],
  product: [
    'Yes, the {product} is in stock in blue, black and grey.',
    'It will be back in stock next week.',
    'Here is our size chart: https://example.com/size-chart',
  ],
  returns: [
    'You can return it within 30 days, here is the form: https://example.com/returns',
    'Your order #{order} has been cancelled.',
    'Refunds take 5 to 7 business days.',
  ],
  shipping: [
    'Yes, we ship to {city}! Delivery takes 3 to 5 business days.',
    'Express shipping is available for $9.90.',
    'You can pick it up at our store any day from 10am.',
  ],
  hours: [
    "We're open Monday to Saturday, 10am to 7pm.",
    'Our shop is at 12 Market Street, next to the station.',
    'Yes, we are open today until 7pm.',
  ],
};

export const GENERIC_BUSINESS = [
  'Happy to help!',
  'You are welcome, have a great day!',
  'Thanks for your message, we will get back to you shortly.',
  'Is there anything else we can help with?',
] as const;

export const STICKERS = [
  'https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png?_nc_cat=1&_nc_sid=ac3552',
  'https://scontent.xx.fbcdn.net/v/t39.1997-6/851582_369239386556143_1497813874_n.png?_nc_cat=1&_nc_sid=ac3552',
  'https://scontent.xx.fbcdn.net/v/t39.1997-6/39178562_1505197616293642_5411344281094848512_n.png?_nc_cat=1&_nc_sid=ac3552',
] as const;

/** Fills a phrase's `{product}`, `{city}`, `{day}`, `{hour}`, `{order}` and `{price}` with draws. */
export function fillTemplate(rng: Rng, template: string): string {
  return template
    .replace(/\{product\}/g, () => pick(rng, PRODUCTS))
    .replace(/\{city\}/g, () => pick(rng, CITIES))
    .replace(/\{day\}/g, () => pick(rng, DAYS))
    .replace(/\{hour\}/g, () => pick(rng, HOURS))
    .replace(/\{order\}/g, () => String(randomInt(rng, 10_000, 99_999)))
    .replace(/\{price\}/g, () => `$${randomInt(rng, 9, 249)}.${pick(rng, ['00', '50', '90', '99'])}`);
}

/**
 * A customer's message after the first: a follow-up on the topic when `roll` is below `followUp`,
 * another opener below `opener`, else a generic line.
 */
export function laterCustomerText(
  rng: Rng,
  topic: SimTopic,
  roll: number,
  followUp: number,
  opener: number,
): string {
  if (roll < followUp) return fillTemplate(rng, pick(rng, CUSTOMER_FOLLOW_UPS[topic]));
  if (roll < opener) return fillTemplate(rng, pick(rng, CUSTOMER_OPENERS[topic]));
  return pick(rng, GENERIC_CUSTOMER);
}
