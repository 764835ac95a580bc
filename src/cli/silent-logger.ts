import pino from 'pino';

/** For commands that build the app without serving. */
export const silentLogger = pino({ level: 'silent' });
