// Package runtimetune sets the Go runtime up for a fluxgate run: the
// garbage collector's pace and a soft memory limit that follows the live
// heap (TuneGC), and the CPU and heap profiles the benchmark scripts ask
// for (StartProfile, StartHeapProfile). The command calls it from main;
// nothing else of the project imports it, and it imports nothing of the
// project.
package runtimetune
