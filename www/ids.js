// A run's id: random, from the browser's crypto (randomUUID needs a secure context;
// getRandomValues works on any host). Used by the page and the worker alike.
export const freshId = () => crypto.randomUUID?.() ?? [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
