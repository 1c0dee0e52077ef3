-- Orders, stock sold so far, and the commit-order counter.
CREATE TABLE orders (
  seq BIGINT PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  idempotency_key TEXT NOT NULL,
  ordered_by TEXT NOT NULL,
  type TEXT NOT NULL,
  age_months INTEGER NOT NULL,
  quantity INTEGER NOT NULL,
  ordered_at_ms BIGINT NOT NULL,
  UNIQUE (ordered_by, idempotency_key)
);
CREATE INDEX orders_by_type ON orders (type, seq);

CREATE TABLE sold (
  type TEXT PRIMARY KEY,
  quantity INTEGER NOT NULL CHECK (quantity >= 0)
);

-- One row. Each order takes the next number from it and holds its row lock
-- until commit, so sequence order is commit order: a watcher that has seen
-- seq n can never later find a smaller seq committed (a plain SEQUENCE hands
-- out numbers at insert time, and a later number may commit first).
CREATE TABLE order_sequence (
  only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
  last_seq BIGINT NOT NULL
);
INSERT INTO order_sequence (last_seq) VALUES (0);
