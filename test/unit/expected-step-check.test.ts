import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeParameters, expectedStepProblem } from '../../annotation/expected-step-check.js';
import type { Tool } from '../../evaluation/tool-argument-validity.js';

const TOOLS: Tool[] = [
  {
    name: 'get_reservation_details',
    description: 'Look a reservation up',
    parameters: {
      type: 'object',
      properties: { reservation_id: { type: 'string' } },
      required: ['reservation_id'],
      additionalProperties: false,
    },
  },
  {
    name: 'book_reservation',
    description: 'Book a flight',
    parameters: {
      type: 'object',
      properties: {
        user_id: { type: 'string' },
        cabin: { type: 'string', enum: ['economy', 'business'] },
        passengers: { type: 'array', items: { type: 'object', properties: { age: { type: 'integer' } } } },
      },
      required: ['user_id', 'cabin'],
    },
  },
];

const call = (action: string, args: Record<string, unknown>) => ({ action, arguments: args });

describe("a reviewer's expected step checked against the agent's tools", () => {
  it('accepts a call that fits its tool, a reply, and anything when the agent declares no tools', () => {
    assert.equal(expectedStepProblem(TOOLS, call('get_reservation_details', { reservation_id: 'R1' })), null);
    assert.equal(
      expectedStepProblem(TOOLS, { action: 'respond', arguments: {}, content: 'Sorry, I cannot.' }),
      null,
    );
    assert.equal(expectedStepProblem(TOOLS, undefined), null);
    assert.equal(expectedStepProblem([], call('anything', { x: 1 })), null);
  });

  it('refuses a tool the agent does not have, naming its tools and the reply alternative', () => {
    const problem = expectedStepProblem(TOOLS, call('get_reservation', { reservation_id: 'R1' }));
    assert.equal(problem?.field, 'expected.action');
    assert.match(problem.message, /"get_reservation" is not one of the agent's tools/);
    assert.match(problem.message, /get_reservation_details, book_reservation/);
    assert.match(problem.message, /"action": "respond"/);
  });

  it('names a missing required argument and lists what the tool takes', () => {
    const problem = expectedStepProblem(TOOLS, call('get_reservation_details', {}));
    assert.equal(problem?.field, 'expected.arguments');
    assert.match(problem.message, /reservation_id is missing/);
    assert.match(problem.message, /takes reservation_id \(string, required\) and nothing else/);
  });

  it('names every wrong type, unknown property and value outside the enum at once', () => {
    const unknown = expectedStepProblem(
      TOOLS,
      call('get_reservation_details', { reservation_id: 7, pnr: 'X' }),
    );
    assert.match(unknown!.message, /pnr is not a parameter of it/);
    assert.match(unknown!.message, /reservation_id must be a string \(got 7, a number\)/);
    const booked = expectedStepProblem(
      TOOLS,
      call('book_reservation', { user_id: 'u1', cabin: 'first', passengers: [{ age: 'ten' }] }),
    );
    assert.match(booked!.message, /cabin must be one of economy, business \(got "first"\)/);
    assert.match(booked!.message, /passengers\[0\]\.age must be an integer \(got "ten", a string\)/);
    // additionalProperties is not false here: another name is accepted.
    assert.equal(
      expectedStepProblem(TOOLS, call('book_reservation', { user_id: 'u', cabin: 'economy', x: 1 })),
      null,
    );
  });

  it('leaves a call unchecked when its tool schema does not compile rather than blaming the reviewer', () => {
    const broken: Tool[] = [{ name: 'odd', description: '', parameters: { type: 'no-such-type' } }];
    assert.equal(expectedStepProblem(broken, call('odd', { anything: true })), null);
  });

  it('describes parameters as a reviewer reads them', () => {
    assert.equal(describeParameters({ type: 'object', properties: {} }), 'no arguments');
    assert.equal(
      describeParameters(TOOLS[1]!.parameters),
      'user_id (string, required), cabin (one of economy, business, required), passengers (array)',
    );
  });
});
