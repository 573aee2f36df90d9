package main

import (
	"crypto/rand"
	"encoding/hex"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleychat/parley/conversation"
)

// nodeName names this process in NATS and in the routing lease: the host
// name and a random suffix, so a restarted node is a new holder.
func nodeName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "parley"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return host + "-" + hex.EncodeToString(b)
}

// registerClusterMetrics shows the node's part in routing: its role, the
// leader epoch it knows and the age of its lease reading.
func registerClusterMetrics(reg *prometheus.Registry, svc *conversation.Service) {
	// single: alone (SQLite or an embedded bus), always routing; leader:
	// holds the routing lease; follower: another node holds it.
	for _, role := range []string{"single", "leader", "follower"} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_cluster_role", Help: "1 for the node's routing role: single (alone), leader (holds the routing lease) or follower.",
			ConstLabels: prometheus.Labels{"role": role},
		}, func() float64 {
			if svc.ClusterStatus().Role == role {
				return 1
			}
			return 0
		}))
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_cluster_leader_epoch", Help: "The routing lease's epoch as this node last read it (0 alone).",
	}, func() float64 { return float64(svc.ClusterStatus().Epoch) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_cluster_lease_age_seconds", Help: "Seconds since the leader last renewed the routing lease, or a follower last read it (0 alone).",
	}, func() float64 { return svc.ClusterStatus().LeaseAge.Seconds() }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_cluster_bus_lag_seconds", Help: "How long the node's last presence report took to come back to it through the bus, or how long the one on its way has been, if longer (0 alone).",
	}, func() float64 { return svc.ClusterStatus().BusLag.Seconds() }))
}
