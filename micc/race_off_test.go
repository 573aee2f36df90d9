//go:build !race

package micc_test

const raceEnabled = false
