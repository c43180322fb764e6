package audit

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Canonical returns v as canonical JSON, byte-identical to what Pangea's
// Python SDK canonicalize_json produces, which is
//
//	json.dumps(v, ensure_ascii=False, allow_nan=False, separators=(",", ":"), sort_keys=True)
//
// encoded as UTF-8: object keys sorted by code point, no insignificant white
// space, non-ASCII text written as itself (no \u003c for <, no escaping of
// U+2028 or U+2029), and only '"', '\\' and control characters escaped, the
// way Python escapes them.
//
// v may be nil, a bool, a string, an integer, a float64, a map[string]any, a
// map[string]string, a []any or a []string, nested freely. Text must be valid
// UTF-8; NaN and infinities are refused, as allow_nan=False refuses them.
func Canonical(v any) ([]byte, error) {
	return AppendCanonical(nil, v)
}

// AppendCanonical appends the canonical JSON of v to b; see Canonical.
func AppendCanonical(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case string:
		return appendString(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case float64:
		return appendFloat(b, v)
	case map[string]string:
		keys := sortedKeys(v)
		b = append(b, '{')
		var err error
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendString(b, k); err != nil {
				return b, err
			}
			b = append(b, ':')
			if b, err = appendString(b, v[k]); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case map[string]any:
		keys := sortedKeys(v)
		b = append(b, '{')
		var err error
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendString(b, k); err != nil {
				return b, err
			}
			b = append(b, ':')
			if b, err = AppendCanonical(b, v[k]); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case []string:
		b = append(b, '[')
		var err error
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendString(b, s); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case []any:
		b = append(b, '[')
		var err error
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = AppendCanonical(b, e); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	}
	return b, fmt.Errorf("canonical json: unsupported type %T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Byte order of UTF-8 is code point order, which is Python's str order.
	slices.Sort(keys)
	return keys
}

// errInvalidUTF8 is returned for text that is not valid UTF-8: Python could
// not have produced it, so no canonical form exists.
var errInvalidUTF8 = errors.New("canonical json: text is not valid UTF-8")

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way Python's json module does
// with ensure_ascii=False.
func appendString(b []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return b, errInvalidUTF8
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"'), nil
}

// appendFloat writes f as Python's float.__repr__ does: the shortest digits
// that round-trip, in fixed notation when the decimal exponent is in
// [-4, 16), otherwise as d.ddde±XX; always with a '.' or an exponent.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("canonical json: %v is not allowed", f)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0.0"...), nil
		}
		return append(b, "0.0"...), nil
	}
	// Shortest round-trip digits and exponent, as d.ddddde±XX.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		b = append(b, '-')
	}
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	if exp >= -4 && exp < 16 {
		switch {
		case exp < 0:
			b = append(b, "0."...)
			b = append(b, strings.Repeat("0", -exp-1)...)
			b = append(b, digits...)
		case exp+1 >= len(digits):
			b = append(b, digits...)
			b = append(b, strings.Repeat("0", exp+1-len(digits))...)
			b = append(b, ".0"...)
		default:
			b = append(b, digits[:exp+1]...)
			b = append(b, '.')
			b = append(b, digits[exp+1:]...)
		}
		return b, nil
	}
	b = append(b, digits[0])
	if len(digits) > 1 {
		b = append(b, '.')
		b = append(b, digits[1:]...)
	}
	b = append(b, 'e')
	if exp < 0 {
		b = append(b, '-')
		exp = -exp
	} else {
		b = append(b, '+')
	}
	if exp < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(exp), 10), nil
}
