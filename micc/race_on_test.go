//go:build race

package micc_test

// raceEnabled scales load tests down: the race detector makes every SQLite
// read many times slower.
const raceEnabled = true
