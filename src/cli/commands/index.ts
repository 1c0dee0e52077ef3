import type { CliCommand } from '../command.js';
import { cheeseCommand } from './cheese.js';
import { healthCommand } from './health.js';
import { serveCommand } from './serve.js';
import { sttCommand } from './stt.js';
import { tokenCommand } from './token.js';
import { ttsCommand } from './tts.js';

/** Every `gatehouse` command, in the order `--help` lists them. */
export const COMMANDS: readonly CliCommand[] = [serveCommand, cheeseCommand, ttsCommand, sttCommand, healthCommand, tokenCommand];
