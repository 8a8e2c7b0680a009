/**
 * The 10,000 coaching situations of bench:coaching and requests that fall in them: every
 * (action, object, condition) of the lists below, so neighbouring memories share most of
 * their words, as one agent's coaching does (many corrections about changes, cancellations
 * and bags, told apart by a detail).
 */

const ACTIONS = [
  'move',
  'cancel',
  'upgrade',
  'refund',
  'rebook',
  'split',
  'rename the passenger on',
  'add a checked bag to',
  'add a pet to',
  'change the seat on',
  'add a wheelchair request to',
  'downgrade',
  'pay for',
  'get a receipt for',
  'add a meal request to',
  'add travel insurance to',
  'remove a passenger from',
  'change the payment method of',
  'add a frequent flyer number to',
  'hold',
] as const;

const OBJECTS = [
  'basic-economy flight',
  'business-class reservation',
  'award ticket booked with miles',
  'group booking',
  'reservation with a lap infant',
  'international itinerary',
  'multi-city trip',
  'red-eye flight',
  'codeshare flight operated by a partner',
  'first-class ticket',
  'premium economy fare',
  'student fare',
  'military fare',
  'charter flight',
  'standby ticket',
  'one-way flight to Canada',
  'domestic round trip',
  'companion ticket',
  'corporate travel booking',
  'vacation package with a hotel',
  'connecting itinerary through Denver',
  'nonrefundable fare',
  'refundable flexible fare',
  'ticket issued by a travel agency',
  'reservation made through a chatbot',
] as const;

const CONDITIONS = [
  'booked in the last 24 hours',
  'after check-in closed',
  'within three hours of departure',
  'paid with a travel voucher',
  'covered by travel insurance',
  'for an unaccompanied minor',
  'after a schedule change by the airline',
  'during a weather waiver',
  'with a pending refund request',
  'that was partly flown already',
  'with an expired passport on file',
  'while the flight is delayed',
  'after the flight was cancelled',
  'with a medical certificate',
  'for a passenger who died',
  'booked under a misspelled name',
  'with seats already assigned',
  'with a service animal',
  'bought with two payment cards',
  'during a fare sale',
] as const;

export const SITUATION_COUNT = ACTIONS.length * OBJECTS.length * CONDITIONS.length;

const parts = (i: number) => ({
  action: ACTIONS[i % ACTIONS.length]!,
  object: OBJECTS[Math.floor(i / ACTIONS.length) % OBJECTS.length]!,
  condition: CONDITIONS[Math.floor(i / (ACTIONS.length * OBJECTS.length)) % CONDITIONS.length]!,
});

export function situationText(i: number): string {
  const p = parts(i);
  return `When a customer asks to ${p.action} a ${p.object} ${p.condition}`;
}

export function behaviourText(i: number): string {
  const p = parts(i);
  return `For a ${p.object} ${p.condition}, check the fare rules first, then explain what is possible before you ${p.action.split(' ')[0]} anything.`;
}

/** A customer's request in situation `i`; `serial` makes every request's text distinct. */
export function requestText(i: number, serial: number): string {
  const p = parts(i);
  return `Hello, I need to ${p.action} my ${p.object} ${p.condition}. My reservation number is R${serial.toString(36).toUpperCase()}, thanks.`;
}

/** The id bench:coaching stores situation `i`'s coaching under. */
export const benchCoachingId = (i: number) => `coa_bench${i.toString().padStart(5, '0')}`;
