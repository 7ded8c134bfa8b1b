import type { Config } from '../config/config.js';
import { LdmError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { LocalSpool } from './local.js';
import { SftpSpool } from './sftp.js';
import type { SpoolTransport } from './transport.js';

export function openTransport(config: Config, log?: Logger): SpoolTransport {
  if (config.spool.transport === 'local') return new LocalSpool(config.spool.root);
  if (config.spool.transport === 'sftp') {
    if (!config.spool.sftp) throw new LdmError('CONFIG', 'spool.sftp is required when spool.transport is "sftp"', { exitCode: 2 });
    return new SftpSpool(config.spool.root, config.spool.sftp, { log });
  }
  throw new LdmError('TRANSPORT', `unknown spool transport "${String(config.spool.transport)}"; use "local" or "sftp"`, { exitCode: 2 });
}
