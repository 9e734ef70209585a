package wire

// Decoders of the node <-> node messages, mirroring encode_peer.go.

func (d *decoder) beacon() *Beacon {
	m := &Beacon{
		Version:    d.version(),
		Cluster:    d.str("cluster", d.lim.MaxCluster),
		From:       d.nodeID("from"),
		Instance:   d.u64("instance"),
		Epoch:      d.epoch("epoch"),
		Role:       d.role("role"),
		Leader:     d.nodeID("leader"),
		Commit:     d.uvarint("commit"),
		Last:       d.uvarint("last"),
		Quorum:     d.bool("quorum"),
		Recovering: d.bool("recovering"),
		FixedID:    d.bool("fixed id"),
		ClientAddr: d.addr("client addr", d.lim.MaxAddr),
		PeerAddr:   d.addr("peer addr", d.lim.MaxAddr),
		Advertise:  d.addr("advertise", d.lim.MaxAddr),
		ClusterID:  d.uvarint("cluster id"),
	}
	d.fixed32("mac", &m.MAC)
	return m
}

func (d *decoder) epochStarts(field string, max int) []EpochStart {
	n := d.count(field, max, minEpochStart)
	if n == 0 {
		return nil
	}
	h := make([]EpochStart, n)
	for i := range h {
		h[i] = EpochStart{Epoch: d.epoch(field), Index: d.uvarint(field), Support: d.u8(field), Committed: d.uvarint(field)}
	}
	return h
}

func (d *decoder) logEntries(field string) []LogEntry {
	n := d.count(field, d.lim.MaxEntries, minLogEntry)
	if n == 0 {
		return nil
	}
	es := make([]LogEntry, n)
	for i := range es {
		es[i].Epoch = d.epoch("entry.epoch")
		d.entry(&es[i].Entry)
	}
	return es
}

func (d *decoder) rolledBack() *RolledBack {
	return &RolledBack{From: d.nodeID("from"), Epoch: d.epoch("epoch"), Items: d.rolledBackItems("items")}
}

// nodeIDs reads a list of node ids.
func (d *decoder) nodeIDs(field string, max int) []NodeID {
	n := d.count(field, max, 1)
	if d.err != nil || n == 0 {
		return nil
	}
	ids := make([]NodeID, n)
	for i := range ids {
		ids[i] = d.nodeID(field)
	}
	return ids
}
