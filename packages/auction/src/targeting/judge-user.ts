/**
 * Judging a request's user against a campaign's compiled rules: consent, demographic, geo,
 * device, interest, segment and behavior, in that order; the first failure is the verdict.
 */
import type { UserProfile } from '@ctrkit/core';
import { CODE, PASS } from '../codes.js';
import type { BehaviorRule, CompiledRules } from './rules.js';

function anyIn(values: readonly string[] | undefined, set: ReadonlySet<string>): boolean {
  if (values === undefined) return false;
  for (const value of values) if (set.has(value)) return true;
  return false;
}

function behaviorMatches(rule: BehaviorRule, user: UserProfile, now: number): boolean {
  const history = user.history;
  if (history === undefined) return false;
  const since = rule.withinMs === undefined ? -Infinity : now - rule.withinMs;
  const need = rule.minCount ?? 1;
  let count = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const event = history[i];
    if (event === undefined || event.action !== rule.action) continue;
    if (rule.category !== undefined && event.category !== rule.category) continue;
    if (rule.brand !== undefined && event.brand !== rule.brand) continue;
    if (rule.item !== undefined && event.item !== rule.item) continue;
    if (rule.withinMs !== undefined && (event.timestamp === undefined || event.timestamp < since || event.timestamp > now)) continue;
    if (++count >= need) return true;
  }
  return false;
}

/** @internal Sets `rules.verdict` / `rules.detail` for this user (everything but frequency caps). */
export function judgeUser(rules: CompiledRules, user: UserProfile, noPersonal: boolean, coppa: boolean, now: number): void {
  rules.detail = undefined;
  if ((noPersonal && rules.personal) || (coppa && rules.precise)) {
    rules.verdict = CODE.consent;
    rules.detail = coppa ? 'campaign targets personal data and the request is under COPPA' : 'campaign targets personal data and the request has no consent for personalized ads';
    return;
  }
  if (rules.ageMin > -Infinity || rules.ageMax < Infinity) {
    const age = user.age;
    if (age === undefined || !(age >= rules.ageMin && age <= rules.ageMax)) {
      rules.verdict = CODE.targeting_demographic;
      rules.detail = `age ${age ?? 'unknown'} outside [${rules.ageMin}, ${rules.ageMax}]`;
      return;
    }
  }
  if (rules.genders && (user.gender === undefined || !rules.genders.has(user.gender))) {
    rules.verdict = CODE.targeting_demographic;
    rules.detail = `gender ${user.gender ?? 'unknown'} not targeted`;
    return;
  }
  const country = user.country === undefined ? undefined : user.country.toUpperCase();
  if (rules.countries && (country === undefined || !rules.countries.has(country))) {
    rules.verdict = CODE.targeting_geo;
    rules.detail = `country ${country ?? 'unknown'} not targeted`;
    return;
  }
  if (rules.excludeCountries && country !== undefined && rules.excludeCountries.has(country)) {
    rules.verdict = CODE.targeting_geo;
    rules.detail = `country ${country} excluded`;
    return;
  }
  if (rules.regions && (user.region === undefined || !rules.regions.has(user.region))) {
    rules.verdict = CODE.targeting_geo;
    rules.detail = `region ${user.region ?? 'unknown'} not targeted`;
    return;
  }
  if (rules.cities && (user.city === undefined || !rules.cities.has(user.city))) {
    rules.verdict = CODE.targeting_geo;
    rules.detail = `city ${user.city ?? 'unknown'} not targeted`;
    return;
  }
  if (rules.devices && (user.device === undefined || !rules.devices.has(user.device))) {
    rules.verdict = CODE.targeting_device;
    rules.detail = `device ${user.device ?? 'unknown'} not targeted`;
    return;
  }
  if (rules.os && (user.os === undefined || !rules.os.has(user.os.toLowerCase()))) {
    rules.verdict = CODE.targeting_device;
    rules.detail = `os ${user.os ?? 'unknown'} not targeted`;
    return;
  }
  if (rules.interests && !anyIn(user.interests, rules.interests)) {
    rules.verdict = CODE.targeting_interest;
    rules.detail = 'no targeted interest';
    return;
  }
  if (rules.segments && !anyIn(user.segments, rules.segments)) {
    rules.verdict = CODE.targeting_segment;
    rules.detail = 'in no targeted segment';
    return;
  }
  if (rules.excludeSegments && anyIn(user.segments, rules.excludeSegments)) {
    rules.verdict = CODE.targeting_segment;
    rules.detail = 'in an excluded segment';
    return;
  }
  if (rules.behavior.length > 0) {
    let matched = false;
    for (const rule of rules.behavior) {
      if (behaviorMatches(rule, user, now)) {
        matched = true;
        break;
      }
    }
    if (!matched) {
      rules.verdict = CODE.targeting_segment;
      rules.detail = 'no behavior rule matched the user history';
      return;
    }
  }
  rules.verdict = PASS;
}
