import { summarizeFactors, type AdRequest } from '@ctrkit/core';
import { describe, expect, it } from 'vitest';
import { adRequestSpec, createFactorDescriber } from '../src/index.js';

const request: AdRequest = {
  requestId: 'r',
  user: { id: 'u', device: 'mobile', age: 34, interests: ['travel', 'food'] },
  context: { timestamp: Date.UTC(2026, 0, 5, 20, 30), timezoneOffsetMinutes: 60, pageCategory: 'news', slots: [{ id: 's', format: 'display', position: 0 }] },
  candidates: [{ adId: 'a', advertiserId: 'x', campaignId: 'c', format: 'display', category: 'travel', bid: 1, bidType: 'CPC' }],
};

describe('factor describer', () => {
  const describe_ = createFactorDescriber(adRequestSpec());

  it('phrases the default spec’s fields from the request', () => {
    // 20:30 UTC + 60 min = 21:30 local time: evening.
    expect(describe_('hour_x_device', request, 0)).toBe('evening on mobile');
    expect(describe_('store_user_advertiser_clicks_30d', request, 0)).toBe('recently clicked this advertiser');
    expect(describe_('user_interests', request, 0)).toBe('interested in travel');
    expect(describe_('page_x_ad_category', request, 0)).toBe('travel ad on a news page');
    expect(describe_('context_weekday', request, 0)).toBe('on Monday');
    expect(describe_('user_age', request, 0)).toBe('user age: 34');
    expect(describe_('user_gender', request, 0)).toBeUndefined();
    expect(describe_('ad_category', { ...request, candidates: [{ ...request.candidates[0]!, category: 'auto' }] }, 0)).toBe('an auto ad');
    expect(describe_('ad_bid', request, 0)).toBeUndefined();
    expect(describe_('user_segments', { ...request, user: { ...request.user, segments: ['age-30s', 'rt-x'] } }, 0)).toBe("in this advertiser's retargeting audience");
    expect(describe_('user_segments', { ...request, user: { ...request.user, segments: ['age-30s'] } }, 0)).toBe('in the age-30s audience');
  });
});

describe('summaries', () => {
  it('turn contributions into the top phrases', () => {
    const phrases = summarizeFactors(
      [
        { field: 'store_user_advertiser_clicks_30d', contribution: 0.8 },
        { field: 'hour_x_device', contribution: 0.5 },
        { field: 'ad_bid', contribution: -0.2 },
      ],
      request,
      0,
      createFactorDescriber(adRequestSpec()),
    );
    expect(phrases).toEqual(['recently clicked this advertiser', 'evening on mobile']);
  });
});
