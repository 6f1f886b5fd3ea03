export * from './rows.ts';
export * from './format.ts';
export * from './views.ts';
export * from './query.ts';
