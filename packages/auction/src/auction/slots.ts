/**
 * A request's slots as the auction runs them: each checked, its reserve and CTR multiplier
 * resolved, and grouped with the slots that accept the same ad formats (a group runs one
 * position auction).
 */
import { AD_FORMATS, CtrkitError } from '@ctrkit/core';
import type { AdFormat, AdRequest, AdSlot } from '@ctrkit/core';
import { checkNumber, describe, isRecord } from '../checks.js';

/** @internal Every ad format, in the order of {@link FORMAT_INDEX}. */
export const FORMATS: readonly AdFormat[] = AD_FORMATS;
/** @internal An ad format's index: its bit in a format mask. */
export const FORMAT_INDEX: Readonly<Record<string, number>> = { search: 0, display: 1, video: 2, native: 3, social: 4 };
/** @internal The most slot groups a request may have. */
export const MAX_GROUPS = 30;

/** @internal A slot as the auction uses it: floors, CTR multiplier and formats resolved once per request. */
export interface ResolvedSlot {
  readonly slot: AdSlot;
  readonly floorCpm: number;
  readonly alpha: number;
}

/** @internal Slots that accept the same ad formats form a group and run one position auction. */
export interface SlotGroup {
  readonly slots: ResolvedSlot[];
  /** Bit f set when the group accepts ad format index f. */
  readonly formatMask: number;
}

/** @internal What slots resolve against: the auction's settings for slots, fixed when it is created. */
export interface SlotSettings {
  /** CTR multiplier per position; the last one for positions beyond. */
  readonly alphas: Float64Array;
  readonly reserveCpm: number;
  /** Reserve CPM per format index. */
  readonly formatFloors: Float64Array;
  /** Per slot format index, the bit set of ad formats it accepts. */
  readonly acceptMask: readonly number[];
  readonly defaultSlot: AdSlot | undefined;
}

/** @internal Checks an ad format; throws `code` naming `where` otherwise. */
export function checkFormat(value: unknown, where: string, code: 'E_CONFIG' | 'E_INPUT'): AdFormat {
  if (typeof value !== 'string' || FORMAT_INDEX[value] === undefined) {
    throw new CtrkitError(code, `${where} must be one of ${FORMATS.join(', ')}, got ${describe(value)}`);
  }
  return value as AdFormat;
}

/** @internal Checks a slot: id, format (optional with `formatOptional`), position, floor and size; throws `code` naming `where` otherwise. */
export function checkSlot(slot: unknown, where: string, code: 'E_CONFIG' | 'E_INPUT', formatOptional: boolean): AdSlot {
  if (!isRecord(slot)) throw new CtrkitError(code, `${where} must be a slot object { id, format, position }, got ${describe(slot)}`);
  if (typeof slot.id !== 'string' || slot.id.length === 0) throw new CtrkitError(code, `${where}.id must be a non-empty string, got ${describe(slot.id)}`);
  if (!(formatOptional && slot.format === undefined)) checkFormat(slot.format, `${where}.format`, code);
  if (typeof slot.position !== 'number' || !Number.isInteger(slot.position) || slot.position < 0) {
    throw new CtrkitError(code, `${where}.position must be an integer ≥ 0 (0 = most prominent), got ${describe(slot.position)}`);
  }
  checkNumber(slot.floorCpm, `${where}.floorCpm`, 0, Infinity, code);
  checkNumber(slot.width, `${where}.width`, 0, Infinity, code);
  checkNumber(slot.height, `${where}.height`, 0, Infinity, code);
  return slot as unknown as AdSlot;
}

function alphaAt(settings: SlotSettings, position: number): number {
  const alphas = settings.alphas;
  return alphas[Math.min(position, alphas.length - 1)] as number;
}

function resolve(settings: SlotSettings, slot: AdSlot): ResolvedSlot {
  return {
    slot,
    floorCpm: Math.max(slot.floorCpm ?? 0, settings.reserveCpm, settings.formatFloors[FORMAT_INDEX[slot.format] as number] as number),
    alpha: alphaAt(settings, slot.position),
  };
}

/**
 * @internal Groups the request's slots (the default slot when it names none), slots in position
 * order within a group, groups in order of their most prominent slot. Validated per request,
 * because slots arrive with it.
 *
 * @throws `CtrkitError` `E_INPUT` on a malformed slot, two slots with one id, or more than
 *   {@link MAX_GROUPS} groups.
 */
export function groupsOf(request: AdRequest, settings: SlotSettings): SlotGroup[] {
  const { acceptMask, defaultSlot, reserveCpm } = settings;
  const slots = request.context.slots;
  if (slots === undefined || slots.length === 0) {
    if (defaultSlot) return [{ slots: [resolve(settings, defaultSlot)], formatMask: acceptMask[FORMAT_INDEX[defaultSlot.format] as number] as number }];
    const floorCpm = reserveCpm;
    return [{ slots: [{ slot: { id: 'default', format: 'display', position: 0 }, floorCpm, alpha: alphaAt(settings, 0) }], formatMask: (1 << FORMATS.length) - 1 }];
  }
  if (!Array.isArray(slots)) throw new CtrkitError('E_INPUT', `request.context.slots must be an array, got ${describe(slots)}`);
  const seen = new Set<string>();
  const groups: SlotGroup[] = [];
  for (let s = 0; s < slots.length; s++) {
    const slot = checkSlot(slots[s], `request.context.slots[${s}]`, 'E_INPUT', false);
    if (seen.has(slot.id)) throw new CtrkitError('E_INPUT', `request.context.slots has two slots with id "${slot.id}"; slot ids must be unique within a request`);
    seen.add(slot.id);
    const mask = acceptMask[FORMAT_INDEX[slot.format] as number] as number;
    let group = groups.find((g) => g.formatMask === mask);
    if (group === undefined) {
      if (groups.length === MAX_GROUPS) throw new CtrkitError('E_INPUT', `a request may have at most ${MAX_GROUPS} slot groups`);
      group = { slots: [], formatMask: mask };
      groups.push(group);
    }
    group.slots.push(resolve(settings, slot));
  }
  for (const group of groups) group.slots.sort((a, b) => a.slot.position - b.slot.position || (a.slot.id < b.slot.id ? -1 : 1));
  groups.sort((a, b) => (a.slots[0] as ResolvedSlot).slot.position - (b.slots[0] as ResolvedSlot).slot.position);
  return groups;
}
