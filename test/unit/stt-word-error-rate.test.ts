import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { normalizeWords, wordErrorRate, wordErrors } from '../../src/engines/pocketsphinx/word-error-rate.js';

describe('word error rate', () => {
  it('normalises case, punctuation, fillers and pronunciation variants', () => {
    assert.deepEqual(normalizeWords('<s> Go, FORWARD [noise] ten(2) meters! </s> <sil>'), ['go', 'forward', 'ten', 'meters']);
  });

  it('counts substitutions, deletions and insertions', () => {
    assert.deepEqual(wordErrors('go forward ten meters', 'go forward ten meters'), { errors: 0, referenceWords: 4 });
    assert.deepEqual(wordErrors('go forward ten meters', 'go for ward ten meters'), { errors: 2, referenceWords: 4 });
    assert.deepEqual(wordErrors('go forward ten meters', 'forward meters'), { errors: 2, referenceWords: 4 });
    assert.deepEqual(wordErrors('a b', ''), { errors: 2, referenceWords: 2 });
  });

  it('pools errors over a corpus', () => {
    assert.equal(
      wordErrorRate([
        { reference: 'a b c d', hypothesis: 'a b c d' },
        { reference: 'e f', hypothesis: 'e' },
      ]),
      1 / 6,
    );
    assert.equal(wordErrorRate([]), 0);
  });
});
