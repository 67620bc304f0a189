package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Readers keep reading while one goroutine writes; with WAL they never block
// each other, and every read sees a consistent snapshot (the page's rows
// never outnumber its total).
func TestStore_ConcurrentReadersOneWriter(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{Now: func() int64 { return time.Now().UnixMilli() }, Synchronous: "NORMAL"})
	const writes = 300
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	done := make(chan struct{})

	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := 0; i < writes; i++ {
			r, err := s.CreateRecord(ctx, RecordInput{LineID: fmt.Sprintf("L%d", i%4), ProductID: "P", Quantity: int64(i), OperatorID: "o"})
			if err != nil {
				errs <- fmt.Errorf("create %d: %w", i, err)
				return
			}
			if i%10 == 0 {
				if _, err := s.UpdateRecord(ctx, r.ID, RecordInput{LineID: "L9", ProductID: "P", Quantity: 1, OperatorID: "o"}); err != nil {
					errs <- fmt.Errorf("update %d: %w", i, err)
					return
				}
			}
		}
	}()
	// Concurrent writers from other goroutines queue on the one writer
	// connection instead of failing with "database is locked".
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: fmt.Sprintf("G%d", g), Recipe: "R"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lastTotal int64
			for {
				select {
				case <-done:
					return
				default:
				}
				p, err := s.ListRecords(ctx, RecordFilter{Sort: SortUpdatedAt, Desc: true, Limit: 50})
				if err != nil {
					errs <- err
					return
				}
				if p.Total < lastTotal || int64(len(p.Records)) > p.Total {
					errs <- fmt.Errorf("reader went back: total %d after %d", p.Total, lastTotal)
					return
				}
				lastTotal = p.Total
				if len(p.Records) > 0 {
					if _, err := s.GetRecord(ctx, p.Records[0].ID); err != nil {
						errs <- err
						return
					}
				}
				if _, err := s.PendingCount(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Tables[0].Live != writes || info.Tables[1].Live != 60 {
		t.Fatalf("counts = %+v", info.Tables)
	}
}

func TestStore_Closed(t *testing.T) {
	s := openTest(t, Options{})
	s.Close()
	if _, err := s.CreateRecord(context.Background(), validInput()); err == nil {
		t.Fatal("write after Close succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}
