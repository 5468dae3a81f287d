package txn

import (
	"math/big"
	"strconv"
	"strings"
)

// maxIntegerDigits bounds the integer part of an amount (NUMERIC(38,4) has
// room for 34; 18 is far beyond any real transaction).
const maxIntegerDigits = 18

// Decimal is an exact non-negative decimal in canonical plain form
// ("25000", "0.5", "12.30" is kept as "12.3").
type Decimal string

// parseDecimal reads a JSON number literal or a decimal string
// ("12", "12.50", "1.2e3") exactly, without float64. ok is false when s is
// not a plain finite decimal. The result has no exponent, no leading zeros
// and no trailing fractional zeros; scale is its number of decimals.
func parseDecimal(s string) (d Decimal, scale int, negative, ok bool) {
	if s == "" || len(s) > 64 {
		return "", 0, false, false
	}
	if s[0] == '-' {
		negative = true
		s = s[1:]
	} else if s[0] == '+' {
		return "", 0, false, false
	}
	mant, expPart, hasExp := strings.Cut(strings.ToLower(s), "e")
	exp := 0
	if hasExp {
		n, err := strconv.Atoi(expPart)
		if err != nil || n > 40 || n < -40 || expPart == "" || expPart[0] == '+' && len(expPart) == 1 {
			return "", 0, false, false
		}
		exp = n
	}
	intPart, frac, hasDot := strings.Cut(mant, ".")
	if intPart == "" || hasDot && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return "", 0, false, false
	}
	digits := intPart + frac
	point := len(intPart) + exp // position of the decimal point in digits
	for point <= 0 {
		digits = "0" + digits
		point++
	}
	for point > len(digits) {
		digits += "0"
	}
	ip := strings.TrimLeft(digits[:point], "0")
	fp := strings.TrimRight(digits[point:], "0")
	if ip == "" {
		ip = "0"
	}
	if len(ip) > maxIntegerDigits {
		return "", 0, negative, false
	}
	if fp == "" {
		return Decimal(ip), 0, negative, true
	}
	return Decimal(ip + "." + fp), len(fp), negative, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Rat returns d as an exact rational.
func (d Decimal) Rat() *big.Rat {
	r, ok := new(big.Rat).SetString(string(d))
	if !ok {
		return new(big.Rat)
	}
	return r
}

// IsZero reports whether d is zero.
func (d Decimal) IsZero() bool { return d == "0" }
