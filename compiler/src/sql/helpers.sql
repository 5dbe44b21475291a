-- Helper functions of the masked views. Each computes exactly what the runtime technique or
-- expression of the same name computes (see compiler/src/sql/ and docs/ARCHITECTURE.md).
-- They are pure (IMMUTABLE): no table is read, no privilege is needed, and calling one directly
-- reveals nothing. "Letters or digits" are Unicode alphanumerics (Rust's char::is_alphanumeric),
-- listed as explicit code point ranges because PostgreSQL's [[:alnum:]] depends on the locale.

CREATE OR REPLACE FUNCTION @schema@.is_alnum(c text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN c BETWEEN '0' AND '9' COLLATE "C" OR c BETWEEN 'a' AND 'z' COLLATE "C"
    OR c BETWEEN 'A' AND 'Z' COLLATE "C" THEN true
  WHEN ascii(c) < 128 THEN false
  ELSE c ~ '^[@ALNUM@]$'
END;

-- The letters and digits of s, in order (a regular expression: translate with the 66 ASCII
-- non-alphanumerics is measured 4x slower).
CREATE OR REPLACE FUNCTION @schema@.alnum_only(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN octet_length(s) = length(s) THEN regexp_replace(s, '[^0-9A-Za-z]', '', 'g')
            ELSE regexp_replace(s, '[^@ALNUM@]', '', 'g') END;

-- What show_last(n) / show_first(n) needs of s beyond its ends: null when the n + 1 characters
-- at the shown end are all ASCII letters or digits (then s has more than n letters or digits
-- and the n shown are its last (first) n characters: the fast path, no more work), otherwise
-- its letters and digits (alnum_only; also null for a null s). The test is one regular
-- expression on n + 1 characters (rtrim over the 62 letters and digits, measured slower,
-- prepares its set on every call).
CREATE OR REPLACE FUNCTION @schema@.alnum_slow(s text, n integer, from_end boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN n < 255 AND from_end
       AND right(s, least(n, 254) + 1) ~ ('^[0-9A-Za-z]{' || (least(n, 254) + 1)::text || '}$')
    THEN NULL
  WHEN n < 255 AND NOT from_end
       AND left(s, least(n, 254) + 1) ~ ('^[0-9A-Za-z]{' || (least(n, 254) + 1)::text || '}$')
    THEN NULL
  ELSE @schema@.alnum_only(s)
END;

-- show_last(n) / show_first(n) of s, given a = alnum_slow(s, n, …) (the view computes it once
-- per row): a null a with a non-null s is the fast path (the shown end of s itself); null and
-- empty give '*******'.
CREATE OR REPLACE FUNCTION @schema@.show_last_of(s text, a text, n integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN a IS NULL AND s IS NOT NULL THEN '*******' || right(s, n)
  WHEN s IS NULL OR s = '' OR length(a) <= n THEN '*******'
  ELSE '*******' || right(a, n)
END;

CREATE OR REPLACE FUNCTION @schema@.show_first_of(s text, a text, n integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN a IS NULL AND s IS NOT NULL THEN left(s, n) || '*******'
  WHEN s IS NULL OR s = '' OR length(a) <= n THEN '*******'
  ELSE left(a, n) || '*******'
END;

-- email_mask: '*******' and the last dot-suffix of the domain d, the part after the last '@'
-- (the view computes d = split_part(s, '@', -1) once per row: string functions, no regular
-- expression; split_part with a negative index counts from the end, and returns all of s when
-- s has no '@': d is as long as s exactly when s has no '@', the empty s included).
CREATE OR REPLACE FUNCTION @schema@.email_mask_of(s text, d text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN s IS NULL OR octet_length(d) = octet_length(s) OR strpos(d, '.') = 0 THEN '*******'
  ELSE '*******' || coalesce('.' || nullif(split_part(d, '.', -1), ''), '')
END;

-- mask_first(n) / mask_last(n): n letters or digits from one end replaced, separators kept;
-- with fill_text, each run of masked characters becomes one copy of it.
CREATE OR REPLACE FUNCTION @schema@.mask_alnum_loop(s text, n integer, from_end boolean,
                                               fill_char text, fill_text text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  total integer;
  lo integer;
  hi integer;
  idx integer := 0;
  out text := '';
  in_run boolean := false;
  masked boolean;
  c text;
BEGIN
  IF s IS NULL OR s = '' THEN
    RETURN '*******';
  END IF;
  total := length(@schema@.alnum_only(s));
  IF from_end THEN
    lo := greatest(total - n, 0);
    hi := total;
  ELSE
    lo := 0;
    hi := least(n, total);
  END IF;
  FOREACH c IN ARRAY regexp_split_to_array(s, '') LOOP
    masked := false;
    IF @schema@.is_alnum(c) THEN
      masked := idx >= lo AND idx < hi;
      idx := idx + 1;
    END IF;
    IF masked THEN
      IF fill_text IS NULL THEN
        out := out || fill_char;
      ELSIF NOT in_run THEN
        out := out || fill_text;
      END IF;
    ELSE
      out := out || c;
    END IF;
    in_run := masked;
  END LOOP;
  RETURN out;
END;
$$;

-- mask_first(n) / mask_last(n): the part of s holding the first (last) n letters or digits
-- (all of them when there are fewer) is masked, each letter or digit by fill_char or each run of
-- them by fill_text (a run crossing the part's edge is split there, as in the runtime).
-- Two inlinable SQL expressions (no PL/pgSQL call per cell; the call site's constants fold the
-- branches away): alnum_part finds the part (computed once per row by the view; with a
-- fill_char `fill`, already masked, as long as the part, since each masked character becomes
-- one fill character; with a null `fill`, for fill_text, as it is) and mask_alnum_of puts it
-- in place. They stay inlinable only while every function in them is IMMUTABLE: `'…' || n`
-- (text || integer, anytextcat) is only STABLE and kept PostgreSQL from inlining (about 50 µs
-- a call through the SQL-function executor), hence `n::text`; and while each branch uses the
-- part once (PostgreSQL does not inline a function whose parameter is used twice when its
-- argument is a costly expression).
--
-- The fast path (with a fill_char and 1 <= n <= 255): when x, the n + 1 characters at the
-- masked end, are ASCII letters or digits with at most one separator among `-`, ` `, `.`, `/`
-- (one regular-expression test without counted repetition), no regular expression finds the
-- part: a = fast_alnum(x) (x without its separator) are x's letters and digits, and
-- translate(x, a, fills) masks them all and keeps the separator; x holds n + 1 letters or
-- digits exactly when a is longer than n, and then the masked part is n characters, otherwise
-- all of x. Nor does translate run over the 62 letters and digits (0.7 µs against 1.8 µs a
-- value on `ddd-dd-dddd`, `SELECT count(…)` over 100,000 values).
--
-- Otherwise one regular expression finds the part: ASCII text uses the class [0-9A-Za-z] and
-- `translate` to mask; other text the Unicode class and a regular expression. In a
-- replacement, PostgreSQL reads \& as the whole match and \\ as one backslash, so only
-- backslashes are escaped. Counts above 255 (the regex repetition limit) take the loop.
CREATE OR REPLACE FUNCTION @schema@.fast_alnum(x text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN replace(replace(replace(replace(x, '-', ''), ' ', ''), '.', ''), '/', '');

CREATE OR REPLACE FUNCTION @schema@.alnum_part(s text, n integer, from_end boolean, fill text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN s IS NULL OR s = '' OR n > 255 THEN NULL
  WHEN fill IS NULL AND octet_length(s) = length(s) AND from_end THEN
    coalesce(substring(s FROM '(?:[0-9A-Za-z][^0-9A-Za-z]*){1,' || n::text || '}$'), '')
  WHEN fill IS NULL AND octet_length(s) = length(s) THEN
    coalesce(substring(s FROM '^(?:[^0-9A-Za-z]*[0-9A-Za-z]){1,' || n::text || '}'), '')
  WHEN fill IS NULL AND from_end THEN
    coalesce(substring(s FROM '(?:[@ALNUM@][^@ALNUM@]*){1,' || n::text || '}$'), '')
  WHEN fill IS NULL THEN
    coalesce(substring(s FROM '^(?:[^@ALNUM@]*[@ALNUM@]){1,' || n::text || '}'), '')
  WHEN n >= 1 AND from_end
       AND right(s, least(n, 255) + 1) ~ '^[0-9A-Za-z]*[-./ ]?[0-9A-Za-z]*$' THEN
    right(translate(right(s, n + 1), @schema@.fast_alnum(right(s, n + 1)), repeat(fill, n + 1)),
          length(right(s, n + 1))
          - CASE WHEN length(@schema@.fast_alnum(right(s, n + 1))) > n THEN 1 ELSE 0 END)
  WHEN n >= 1 AND NOT from_end
       AND left(s, least(n, 255) + 1) ~ '^[0-9A-Za-z]*[-./ ]?[0-9A-Za-z]*$' THEN
    left(translate(left(s, n + 1), @schema@.fast_alnum(left(s, n + 1)), repeat(fill, n + 1)),
         length(left(s, n + 1))
         - CASE WHEN length(@schema@.fast_alnum(left(s, n + 1))) > n THEN 1 ELSE 0 END)
  WHEN octet_length(s) = length(s) AND from_end THEN
    translate(coalesce(substring(s FROM '(?:[0-9A-Za-z][^0-9A-Za-z]*){1,' || n::text || '}$'), ''),
              '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', repeat(fill, 62))
  WHEN octet_length(s) = length(s) THEN
    translate(coalesce(substring(s FROM '^(?:[^0-9A-Za-z]*[0-9A-Za-z]){1,' || n::text || '}'), ''),
              '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', repeat(fill, 62))
  WHEN from_end THEN
    regexp_replace(coalesce(substring(s FROM '(?:[@ALNUM@][^@ALNUM@]*){1,' || n::text || '}$'), ''),
                   '[@ALNUM@]', replace(fill, '\', '\\'), 'g')
  ELSE
    regexp_replace(coalesce(substring(s FROM '^(?:[^@ALNUM@]*[@ALNUM@]){1,' || n::text || '}'), ''),
                   '[@ALNUM@]', replace(fill, '\', '\\'), 'g')
END;

-- s with its part masked, given part = alnum_part(s, n, from_end, fill_char or null).
CREATE OR REPLACE FUNCTION @schema@.mask_alnum_of(s text, part text, n integer, from_end boolean,
                                                  fill_char text, fill_text text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN s IS NULL OR s = '' THEN '*******'
  WHEN n > 255 THEN @schema@.mask_alnum_loop(s, n, from_end, fill_char, fill_text)
  WHEN fill_text IS NULL AND from_end THEN left(s, length(s) - length(part)) || part
  WHEN fill_text IS NULL THEN part || substr(s, length(part) + 1)
  WHEN from_end THEN
    left(s, length(s) - length(part))
    || regexp_replace(part, '[@ALNUM@]+', replace(fill_text, '\', '\\'), 'g')
  ELSE
    regexp_replace(part, '[@ALNUM@]+', replace(fill_text, '\', '\\'), 'g')
    || substr(s, length(part) + 1)
END;

-- mask_first_percent(p) / mask_last_percent(p): ceil(len * p / 100) characters become '*'.
CREATE OR REPLACE FUNCTION @schema@.mask_percent(s text, p integer, from_end boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN s IS NULL OR s = '' THEN '*******'
  WHEN from_end THEN
    left(s, length(s) - least((length(s) * p + 99) / 100, length(s)))
      || repeat('*', least((length(s) * p + 99) / 100, length(s)))
  ELSE
    repeat('*', least((length(s) * p + 99) / 100, length(s)))
      || right(s, length(s) - least((length(s) * p + 99) / 100, length(s)))
END;

-- initials([delimiter]): the first character of each part (parts split on Unicode whitespace,
-- or on the delimiter and then trimmed of whitespace); '*******' when there is none.
CREATE OR REPLACE FUNCTION @schema@.initials(s text, delimiter text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN s IS NULL OR s = '' THEN '*******'
  ELSE coalesce(nullif((
    SELECT string_agg(left(part, 1), '' ORDER BY i)
    FROM unnest(CASE
           WHEN delimiter IS NULL OR delimiter = '' THEN regexp_split_to_array(s, '[@SPACE@]+')
           ELSE string_to_array(s, delimiter)
         END) WITH ORDINALITY AS parts(raw, i),
         LATERAL (SELECT regexp_replace(raw, '^[@SPACE@]+|[@SPACE@]+$', '', 'g') AS part) AS t
  ), ''), '*******')
END;

-- digits([char]) on a text: every Unicode numeric character replaced.
CREATE OR REPLACE FUNCTION @schema@.digits(s text, fill text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN regexp_replace(s, '[@NUMERIC@]', fill, 'g');

-- digits(text: t) on a text: every run of Unicode numeric characters replaced by t once (the
-- caller escapes t for regexp_replace: `\` and `&`).
CREATE OR REPLACE FUNCTION @schema@.digit_runs(s text, fill text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN regexp_replace(s, '[@NUMERIC@]+', fill, 'g');

-- show_last(n, char: c | text: t) / show_first(…) of s, given a = alnum_slow(s, n, …), with
-- the stand-in st (seven c, or t) in place of '*******': null and empty give '*******', a value
-- with n or fewer letters and digits the stand-in alone.
CREATE OR REPLACE FUNCTION @schema@.show_last_with(s text, a text, n integer, st text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN s IS NULL OR s = '' THEN '*******'
  WHEN a IS NULL THEN st || right(s, n)
  WHEN length(a) <= n THEN st
  ELSE st || right(a, n)
END;

CREATE OR REPLACE FUNCTION @schema@.show_first_with(s text, a text, n integer, st text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN s IS NULL OR s = '' THEN '*******'
  WHEN a IS NULL THEN left(s, n) || st
  WHEN length(a) <= n THEN st
  ELSE left(a, n) || st
END;

-- mask_first_percent(p, char: c | text: t) / mask_last_percent(…): the k = ceil(len * p / 100)
-- characters at that end become k copies of c (c not null) or one copy of t.
CREATE OR REPLACE FUNCTION @schema@.mask_percent_with(s text, p integer, from_end boolean,
                                                      c text, t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN s IS NULL OR s = '' THEN '*******'
  WHEN from_end THEN
    left(s, length(s) - least((length(s) * p + 99) / 100, length(s)))
      || coalesce(repeat(c, least((length(s) * p + 99) / 100, length(s))), t)
  ELSE
    coalesce(repeat(c, least((length(s) * p + 99) / 100, length(s))), t)
      || right(s, length(s) - least((length(s) * p + 99) / 100, length(s)))
END;

-- buckets: how many edges are at or below x (the label's position, from 1; 0 below the first
-- edge, which indexes no label: null). Null for a null, NaN or infinite x (the runtime fails).
CREATE OR REPLACE FUNCTION @schema@.bucket_of(x double precision, edges double precision[])
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN x IS NULL OR x IN ('NaN', 'Infinity', '-Infinity') THEN NULL
  ELSE (SELECT count(*)::integer FROM unnest(edges) AS e WHERE e <= x)
END;

-- Whole years from `birth` to `today` (a birthday counts once its month and day are reached).
CREATE OR REPLACE FUNCTION @schema@.whole_years(birth date, today date) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (extract(year FROM today) - extract(year FROM birth))::bigint
  - CASE WHEN (extract(month FROM today), extract(day FROM today))
              < (extract(month FROM birth), extract(day FROM birth)) THEN 1 ELSE 0 END;

-- The clock's date (UTC).
CREATE OR REPLACE FUNCTION @schema@.today() RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (now() AT TIME ZONE 'UTC')::date;

-- A bigint result, or null when it does not fit (the runtime's checked arithmetic).
CREATE OR REPLACE FUNCTION @schema@.int_of(x numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN x BETWEEN -9223372036854775808 AND 9223372036854775807 THEN x::bigint END;

-- A grant's record key as the int whose canonical text it is (no leading zero, no "-0", in
-- range); null for any other text, which no int key's canonical text equals.
CREATE OR REPLACE FUNCTION @schema@.int_key(k text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN k ~ '^(0|-?[1-9][0-9]{0,18})$' THEN @schema@.int_of(k::numeric) END;

-- A decimal sum that the runtime computes as non-finite is unknown (null), never an error:
-- a + b overflows exactly when a/2 + b/2 reaches 2^1023.
CREATE OR REPLACE FUNCTION @schema@.float_add(a double precision, b double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN abs(a / 2 + b / 2) < '8.98846567431158e307'::double precision THEN a + b END;

-- Stops a query on a value that SQL cannot mask exactly as the runtime does (never an
-- approximation, never the clear value).
CREATE OR REPLACE FUNCTION @schema@.inexact(what text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RAISE EXCEPTION 'pol: % cannot be computed exactly in SQL for this value', what
    USING ERRCODE = 'data_exception';
END;
$$;

-- `range(size)` of an int: "lo-hi" with lo = floor(v / size) * size; null on overflow. Away
-- from the ends of bigint, in bigint arithmetic (division truncates toward zero: a negative v
-- with a remainder is one size lower); near them, the same in numeric with div and mod (not
-- `v::numeric / size`: numeric division rounds a 19-digit quotient to a whole number).
CREATE OR REPLACE FUNCTION @schema@.int_range(v bigint, size bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN v BETWEEN -9223372036854775807 + 2 * size AND 9223372036854775807 - 2 * size THEN
    ((v / size - CASE WHEN v % size < 0 THEN 1 ELSE 0 END) * size)::text || '-'
      || ((v / size - CASE WHEN v % size < 0 THEN 1 ELSE 0 END) * size + size)::text
  ELSE @schema@.int_of((div(v::numeric, size) - CASE WHEN mod(v::numeric, size) < 0 THEN 1 ELSE 0 END)
                       * size)::text || '-'
    || @schema@.int_of(@schema@.int_of((div(v::numeric, size)
                       - CASE WHEN mod(v::numeric, size) < 0 THEN 1 ELSE 0 END) * size)::numeric + size)::text
END;

-- `round(size)` of an int: the ceiling to a multiple of size; null on overflow. Below
-- max - size in bigint arithmetic (truncation toward zero is the ceiling of a negative
-- quotient; a positive remainder adds one size); above, through numeric.
CREATE OR REPLACE FUNCTION @schema@.int_round(v bigint, size bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN v BETWEEN -9223372036854775807 AND 9223372036854775807 - size THEN
    (v / size + CASE WHEN v % size > 0 THEN 1 ELSE 0 END) * size
  ELSE @schema@.int_of((div(v::numeric, size) + CASE WHEN mod(v::numeric, size) > 0 THEN 1 ELSE 0 END)
                      * size)
END;

-- The runtime's snap: a quotient within 1e-9 (relative) of a whole number is that number.
CREATE OR REPLACE FUNCTION @schema@.snap(q double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN abs(q - round(q)) <= 1e-9::double precision * greatest(abs(round(q)), 1)
            THEN round(q) ELSE q END;

-- `range(size)` of a decimal with a whole-number size: the bounds are whole numbers, printed
-- exactly; beyond 2^53 the query stops rather than print an approximation.
CREATE OR REPLACE FUNCTION @schema@.dec_range(v double precision, size double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN v IS NULL THEN NULL
  WHEN abs(v) < 9007199254740992 - size * 2 THEN
    (floor(@schema@.snap(v / size)) * size)::bigint::text || '-'
      || (floor(@schema@.snap(v / size)) * size + size)::bigint::text
  ELSE @schema@.inexact('range of a decimal beyond 2^53: ' || v::text)
END;

-- `round(size)` of a decimal with a whole-number size.
CREATE OR REPLACE FUNCTION @schema@.dec_round(v double precision, size double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN v IS NULL THEN NULL
  WHEN abs(v) < 1e300 THEN ceil(@schema@.snap(v / size)) * size
  ELSE @schema@.inexact('round of a decimal beyond 1e300: ' || v::text)::double precision
END;

-- `age_range(size [, max])`: null after the clock or at or above max.
CREATE OR REPLACE FUNCTION @schema@.age_range(d date, size bigint, max bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
  WHEN d IS NULL OR @schema@.whole_years(d, @schema@.today()) < 0 THEN NULL
  WHEN max IS NOT NULL AND @schema@.whole_years(d, @schema@.today()) >= max THEN NULL
  ELSE ((@schema@.whole_years(d, @schema@.today()) / size) * size)::text || '-'
    || ((@schema@.whole_years(d, @schema@.today()) / size) * size + size)::text
END;

-- The age in whole years at the clock, null for a date after the clock (buckets on dates).
CREATE OR REPLACE FUNCTION @schema@.age_of(d date) RETURNS double precision
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN @schema@.whole_years(d, @schema@.today()) >= 0
            THEN @schema@.whole_years(d, @schema@.today())::double precision END;

-- The `max:` cut-off of the date techniques (age >= max hides the value).
CREATE OR REPLACE FUNCTION @schema@.too_old(d date, max bigint) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN max IS NOT NULL AND @schema@.whole_years(d, @schema@.today()) >= max;

-- `year_only` / `month_year`.
CREATE OR REPLACE FUNCTION @schema@.year_only(d date, max bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN d IS NULL OR @schema@.too_old(d, max) THEN NULL
            ELSE extract(year FROM d)::bigint::text END;

CREATE OR REPLACE FUNCTION @schema@.month_year(d date, max bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN d IS NULL OR @schema@.too_old(d, max) THEN NULL
            ELSE (ARRAY['January', 'February', 'March', 'April', 'May', 'June', 'July',
                        'August', 'September', 'October', 'November', 'December'])
                   [extract(month FROM d)::integer]
                 || ' ' || extract(year FROM d)::bigint::text END;

-- A subject's text set (`groups`, `roles`, `purposes`): absent or null is empty; anything but
-- an array of strings is null (every test on it is unknown).
CREATE OR REPLACE FUNCTION @schema@.text_set(j jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN j IS NULL OR jsonb_typeof(j) = 'null' THEN ARRAY[]::text[]
  WHEN jsonb_typeof(j) <> 'array' THEN NULL
  WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(j) e WHERE jsonb_typeof(e) <> 'string')
    THEN NULL
  ELSE ARRAY(SELECT jsonb_array_elements_text(j))
END;

-- A subject's attributes: an object of attribute → array of strings (a string is a one-element
-- array; anything else is null); absent is empty; not an object is null.
CREATE OR REPLACE FUNCTION @schema@.attributes(j jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN j IS NULL OR jsonb_typeof(j) = 'null' THEN '{}'::jsonb
  WHEN jsonb_typeof(j) <> 'object' THEN NULL
  ELSE coalesce((SELECT jsonb_object_agg(k, CASE
           WHEN jsonb_typeof(v) = 'string' THEN jsonb_build_array(v)
           WHEN @schema@.text_set(v) IS NOT NULL AND jsonb_typeof(v) = 'array' THEN v
           ELSE 'null'::jsonb END)
         FROM jsonb_each(j) AS e(k, v)), '{}'::jsonb)
END;

-- `user.attributes["k"]`: the attribute's texts, null when absent or malformed.
CREATE OR REPLACE FUNCTION @schema@.attribute(attrs jsonb, k text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(attrs -> k) = 'array'
            THEN ARRAY(SELECT jsonb_array_elements_text(attrs -> k)) END;

-- `user has attribute k` and `user has attribute k = v`.
CREATE OR REPLACE FUNCTION @schema@.has_attribute(attrs jsonb, k text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN attrs IS NULL OR k IS NULL THEN NULL
  WHEN NOT attrs ? k THEN false
  WHEN jsonb_typeof(attrs -> k) = 'array' THEN true
END;

CREATE OR REPLACE FUNCTION @schema@.has_attribute_value(attrs jsonb, k text, v text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN attrs IS NULL OR k IS NULL THEN NULL
  WHEN NOT attrs ? k THEN false
  WHEN jsonb_typeof(attrs -> k) <> 'array' OR v IS NULL THEN NULL
  ELSE (attrs -> k) @> jsonb_build_array(v)
END;

-- A subject's int field: a JSON integer in range; anything else is null.
CREATE OR REPLACE FUNCTION @schema@.int_field(j jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(j) = 'number' AND (j #>> '{}') ~ '^-?[0-9]+$'
            THEN @schema@.int_of((j #>> '{}')::numeric) END;

CREATE OR REPLACE FUNCTION @schema@.decimal_field(j jsonb) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(j) = 'number' AND abs((j #>> '{}')::numeric) < 1e308
            THEN (j #>> '{}')::double precision END;

CREATE OR REPLACE FUNCTION @schema@.text_field(j jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(j) = 'string' THEN j #>> '{}' END;

CREATE OR REPLACE FUNCTION @schema@.bool_field(j jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(j) = 'boolean' THEN (j #>> '{}')::boolean END;

-- The purposes a session acts under: those it claimed (act_under) that its subject allows.
-- A claim is only a wish: authority comes from the subject, read again on every query.
CREATE OR REPLACE FUNCTION @schema@.claimed(allowed text[], claims text, declared text[])
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN allowed IS NULL THEN NULL
  ELSE ARRAY(SELECT DISTINCT p FROM unnest(allowed) AS p
             WHERE p = ANY(string_to_array(coalesce(claims, ''), ',')) AND p = ANY(declared)
             ORDER BY p)
END;

-- `only show N% of rows`: the first 8 bytes of SHA-256(source, 0, key text) as an unsigned
-- big-endian number, mod 10000, below N * 100.
CREATE OR REPLACE FUNCTION @schema@.sample_in(prefix bytea, k text, pct integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (('x' || encode(substring(sha256(prefix || convert_to(k, 'UTF8')) FROM 1 FOR 8), 'hex'))
          ::bit(64)::bigint::numeric
        + CASE WHEN get_bit(substring(sha256(prefix || convert_to(k, 'UTF8')) FROM 1 FOR 1), 7) = 1
               THEN 18446744073709551616 ELSE 0 END) % 10000 < pct * 100;

-- String functions of `expr` (docs/language.md, "String functions"). Positions and lengths are
-- clamped before any cast to integer, so that no constant folding of a branch not taken
-- can fail.
-- A text of at most 1,048,576 characters, else null (`replace`, `regex_replace`).
CREATE OR REPLACE FUNCTION @schema@.text_limit(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN length(t) <= 1048576 THEN t END;

-- `substring(s, start)`: the characters from position `start` (the first is 1) to the end.
CREATE OR REPLACE FUNCTION @schema@.substring_from(s text, start bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN start IS NOT NULL
  THEN substr(s, least(greatest(start, 1), 2147483647)::integer) END;

-- `substring(s, start, len)`: the characters at positions start .. start + len - 1 that
-- exist; a negative len is null.
CREATE OR REPLACE FUNCTION @schema@.substring_for(s text, start bigint, len bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN s IS NULL OR start IS NULL OR len IS NULL OR len < 0 THEN NULL
  WHEN least(start::numeric + len - 1, length(s)) < greatest(start::numeric, 1) THEN ''
  ELSE substr(s, least(greatest(start, 1), 2147483647)::integer,
              least(least(start::numeric + len - 1, length(s))
                    - greatest(start::numeric, 1) + 1, 2147483647)::integer)
END;

-- `lpad(s, n, fill)` / `rpad`: at most 10,000 characters, else null.
CREATE OR REPLACE FUNCTION @schema@.pad_left(s text, n bigint, fill text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN n <= 10000 THEN lpad(s, least(greatest(n, 0), 10000)::integer, fill) END;

CREATE OR REPLACE FUNCTION @schema@.pad_right(s text, n bigint, fill text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN n <= 10000 THEN rpad(s, least(greatest(n, 0), 10000)::integer, fill) END;

-- Calendar durations (`6mo`, `1y`): the instant `m` months before the clock, in UTC, the day
-- clamped to the month's last (as chrono's `checked_sub_months`); -infinity when that is
-- before PostgreSQL's first year (every stored instant is then newer).
CREATE OR REPLACE FUNCTION @schema@.months_ago(m bigint) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
  WHEN m > (extract(year FROM now() AT TIME ZONE 'UTC')::bigint + 4700) * 12
    THEN '-infinity'::timestamptz
  ELSE ((now() AT TIME ZONE 'UTC') - make_interval(months => m::integer)) AT TIME ZONE 'UTC'
END;
