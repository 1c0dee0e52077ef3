-- Places one order in one statement (one round trip): idempotency check, stock
-- check and insert, atomically. Lock order is always sold(type) then
-- order_sequence, so two placements never deadlock. A concurrent placement with
-- the same key makes the INSERT fail with unique_violation, which rolls the
-- whole statement back (stock and sequence included); the caller retries and
-- then finds the committed order.
CREATE FUNCTION place_order(
  p_id TEXT, p_key TEXT, p_by TEXT, p_type TEXT, p_age INTEGER, p_quantity INTEGER, p_stock INTEGER, p_now_ms BIGINT
) RETURNS TABLE (
  outcome TEXT, remaining INTEGER, seq BIGINT, id TEXT, idempotency_key TEXT, ordered_by TEXT, type TEXT,
  age_months INTEGER, quantity INTEGER, ordered_at_ms BIGINT
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  existing orders%ROWTYPE;
  next_seq BIGINT;
BEGIN
  SELECT * INTO existing FROM orders o WHERE o.ordered_by = p_by AND o.idempotency_key = p_key;
  IF FOUND THEN
    RETURN QUERY SELECT
      CASE WHEN existing.type = p_type AND existing.age_months = p_age AND existing.quantity = p_quantity THEN 'replayed' ELSE 'key-conflict' END,
      NULL::INTEGER, existing.seq, existing.id, existing.idempotency_key, existing.ordered_by, existing.type,
      existing.age_months, existing.quantity, existing.ordered_at_ms;
    RETURN;
  END IF;

  INSERT INTO sold AS s (type, quantity) VALUES (p_type, 0) ON CONFLICT ON CONSTRAINT sold_pkey DO NOTHING;
  UPDATE sold AS s SET quantity = s.quantity + p_quantity WHERE s.type = p_type AND s.quantity + p_quantity <= p_stock;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'out-of-stock'::TEXT, GREATEST(0, p_stock - (SELECT s.quantity FROM sold s WHERE s.type = p_type)),
      NULL::BIGINT, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::INTEGER, NULL::INTEGER, NULL::BIGINT;
    RETURN;
  END IF;

  UPDATE order_sequence SET last_seq = last_seq + 1 RETURNING last_seq INTO next_seq;
  INSERT INTO orders (seq, id, idempotency_key, ordered_by, type, age_months, quantity, ordered_at_ms)
    VALUES (next_seq, p_id, p_key, p_by, p_type, p_age, p_quantity, p_now_ms);
  -- Delivered at commit, in commit order, to every replica's LISTEN connection.
  PERFORM pg_notify('gatehouse_orders', next_seq::TEXT);
  RETURN QUERY SELECT 'created'::TEXT, NULL::INTEGER, next_seq, p_id, p_key, p_by, p_type, p_age, p_quantity, p_now_ms;
END;
$$;
