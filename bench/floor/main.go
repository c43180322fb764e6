// Command floor measures the floor under the pipeline scenario: the wall
// time of the same HTTP calls that tracebatch makes, made by a client that
// does nothing else. Items go in rounds of -j: wait the audit linger, send
// one bulk /v2/log call carrying the round's j events, then j chat
// completions at once; the next round starts when the last answer is in.
// Bodies are built once, so what remains is HTTP, the fakes and the
// machine's scheduling: what any client would pay.
//
//	floor -pangea http://127.0.0.1:41001 -openai http://127.0.0.1:41002/v1 -n 10000 -j 100
//
// It prints KEY=VALUE lines: wall_s, rounds, round_ms and ideal_s (n ÷ j ×
// (linger + the fakes' latencies, when given with -latency)).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"sync"
	"time"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("floor: ")
	pangea := flag.String("pangea", "", "the fake Pangea's URL")
	openai := flag.String("openai", "", "the fake OpenAI's base URL (…/v1)")
	token := flag.String("audit-token", "pts_bench", "the Pangea token")
	key := flag.String("openai-key", "sk-bench", "the OpenAI key")
	n := flag.Int("n", 10000, "items")
	j := flag.Int("j", 100, "items a round (concurrency)")
	linger := flag.Duration("linger", 10*time.Millisecond, "the audit linger waited before each bulk call")
	latency := flag.Duration("latency", 0, "the fakes' latency a call, to print the ideal (linger + 2 × latency a round)")
	flag.Parse()
	if *pangea == "" || *openai == "" || *j < 1 {
		log.Fatal("usage: floor -pangea URL -openai URL [-n N] [-j J] [-linger D] [-latency D]")
	}

	events := make([]map[string]any, *j)
	for i := range events {
		input, _ := json.Marshal(map[string]string{"context": "Context 0. magic link sign in email", "prompt": fmt.Sprintf("Question %d: what about magic links?", i)})
		events[i] = map[string]any{"event": map[string]string{"event_type": "inference:user_prompt", "event_tools": "OpenAI", "event_input": string(input)}}
	}
	bulk, _ := json.Marshal(map[string]any{"events": events})
	chat, _ := json.Marshal(map[string]any{"model": "gpt-4o-mini", "messages": []map[string]string{
		{"role": "system", "content": "You are a careful, friendly assistant. Context: magic link sign in email"},
		{"role": "user", "content": "Question 1: what about magic links?"},
	}})

	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no limit across hosts: every connection is kept
	t.MaxIdleConnsPerHost = *j + 2
	client := &http.Client{Transport: t}
	post := func(url, auth string, body []byte) {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+auth)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			log.Fatalf("%s answered %d", url, res.StatusCode)
		}
	}

	rounds := (*n + *j - 1) / *j
	start := time.Now()
	for range rounds {
		time.Sleep(*linger)
		post(*pangea+"/v2/log", *token, bulk)
		var wg sync.WaitGroup
		for range *j {
			wg.Add(1)
			go func() {
				defer wg.Done()
				post(*openai+"/chat/completions", *key, chat)
			}()
		}
		wg.Wait()
	}
	wall := time.Since(start)
	fmt.Printf("wall_s=%.3f\nrounds=%d\nround_ms=%.2f\n", wall.Seconds(), rounds, wall.Seconds()*1000/float64(rounds))
	if *latency > 0 {
		fmt.Printf("ideal_s=%.3f\n", float64(rounds)*(*linger+2**latency).Seconds())
	}
}
