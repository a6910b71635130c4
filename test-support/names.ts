import { randomBytes } from 'node:crypto';

/** A fresh, valid topic/table/group name per test, so tests never see each other's data. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}
