// Gateway task ids: `gt_`, the time (base 36, fixed width, so ids sort by creation and index
// inserts append) and 64 random bits. Not a secret: the callback token beside it is.
// Within one process, ids minted in the same millisecond increase (the random part of the
// previous one, plus one): the queue's FIFO order within a tenant breaks ties by id.
import { randomBytes } from 'node:crypto';

let last = { prefix: '', random: 0n };

export function newGatewayTaskId(now: number): string {
  const prefix = Math.max(0, Math.floor(now)).toString(36).padStart(9, '0');
  const random = prefix === last.prefix && last.random < 0xffff_ffff_ffff_fff0n ? last.random + 1n : randomBytes(8).readBigUInt64BE() >> 1n;
  last = { prefix, random };
  return `gt_${prefix}${random.toString(16).padStart(16, '0')}`;
}
