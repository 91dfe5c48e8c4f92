//! Clustering: records joined by matching pairs, with a guard against chains.
//!
//! Pairs are taken strongest first. Two groups are joined when at least half
//! of the possible pairs between them are matches themselves; a lone pair
//! always joins. When two files are linked, only pairs across the files are
//! possible (records of one file are never compared with each other). So one weak bridge (a household member who shares an
//! address and a phone with a customer) cannot chain two people into one.

/// The clusters of `n` records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clusters {
    /// Per record, its cluster's number (the smallest row in it).
    pub of: Vec<u32>,
    /// Indices into the given pairs of those that ended inside one cluster.
    pub kept: Vec<usize>,
    /// How many pairs the guard refused to join on.
    pub split: usize,
}

struct Groups {
    parent: Vec<u32>,
    members: Vec<Vec<u32>>,
}

impl Groups {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }
}

/// Clusters `n` records from matching `pairs` (rows), given in the order to
/// consider them (strongest first).
pub fn cluster(n: usize, pairs: &[(u32, u32)]) -> Clusters {
    cluster_sources(n, pairs, &[])
}

/// [`cluster`] for linked files: `sources` gives each record's file (empty:
/// one file), and only pairs across files count as possible.
pub fn cluster_sources(n: usize, pairs: &[(u32, u32)], sources: &[u8]) -> Clusters {
    let source = |x: u32| sources.get(x as usize).copied().unwrap_or(0);
    // Adjacency of the matching pairs, to count links between two groups.
    let mut degree = vec![0u32; n + 1];
    for &(a, b) in pairs {
        degree[a as usize + 1] += 1;
        degree[b as usize + 1] += 1;
    }
    for i in 1..=n {
        degree[i] += degree[i - 1];
    }
    let mut next = degree.clone();
    let mut adjacent = vec![0u32; pairs.len() * 2];
    for &(a, b) in pairs {
        adjacent[next[a as usize] as usize] = b;
        next[a as usize] += 1;
        adjacent[next[b as usize] as usize] = a;
        next[b as usize] += 1;
    }
    let mut g = Groups {
        parent: (0..n as u32).collect(),
        members: (0..n as u32).map(|i| vec![i]).collect(),
    };
    let mut split = 0;
    for &(a, b) in pairs {
        let (ra, rb) = (g.find(a), g.find(b));
        if ra == rb {
            continue;
        }
        let (sa, sb) = (g.members[ra as usize].len(), g.members[rb as usize].len());
        if sa + sb > 2 {
            let (small, other) = if sa <= sb { (ra, rb) } else { (rb, ra) };
            let members = std::mem::take(&mut g.members[small as usize]);
            let mut links = 0usize;
            for &x in &members {
                let (from, to) = (degree[x as usize] as usize, degree[x as usize + 1] as usize);
                for &y in &adjacent[from..to] {
                    if g.find(y) == other {
                        links += 1;
                    }
                }
            }
            // How many pairs between the two groups could have been compared.
            let possible = if sources.is_empty() {
                sa * sb
            } else {
                let ones = |m: &[u32]| m.iter().filter(|&&x| source(x) != 0).count();
                let (a1, b1) = (ones(&members), ones(&g.members[other as usize]));
                let (a0, b0) = (members.len() - a1, g.members[other as usize].len() - b1);
                a0 * b1 + a1 * b0
            };
            g.members[small as usize] = members;
            if links * 2 < possible {
                split += 1;
                continue;
            }
        }
        // Join the smaller group into the larger.
        let (keep, gone) = if sa >= sb { (ra, rb) } else { (rb, ra) };
        g.parent[gone as usize] = keep;
        let moved = std::mem::take(&mut g.members[gone as usize]);
        g.members[keep as usize].extend(moved);
    }
    let mut of = vec![0u32; n];
    for root in 0..n as u32 {
        if g.parent[root as usize] == root {
            let min = g.members[root as usize]
                .iter()
                .copied()
                .min()
                .unwrap_or(root);
            for &x in &g.members[root as usize] {
                of[x as usize] = min;
            }
        }
    }
    let kept = pairs
        .iter()
        .enumerate()
        .filter(|(_, &(a, b))| of[a as usize] == of[b as usize])
        .map(|(i, _)| i)
        .collect();
    Clusters { of, kept, split }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_weak_bridge_does_not_chain() {
        // 0-1-2 a true triangle; 3-4 a pair; 2-3 one bridge.
        let pairs = [(0, 1), (1, 2), (0, 2), (3, 4), (2, 3)];
        let c = cluster(5, &pairs);
        assert_eq!(c.of, [0, 0, 0, 3, 3]);
        assert_eq!(c.split, 1);
        assert_eq!(c.kept, [0, 1, 2, 3]);
    }

    #[test]
    fn a_star_across_two_files_is_one_cluster() {
        // Record 0 in the first file, 1-4 in the second: they are never
        // compared with each other, so the star is all there is.
        let pairs = [(0, 1), (0, 2), (0, 3), (0, 4)];
        let linked = cluster_sources(5, &pairs, &[0, 1, 1, 1, 1]);
        assert_eq!(linked.of, [0, 0, 0, 0, 0]);
        assert_eq!(linked.split, 0);
        let deduped = cluster(5, &pairs);
        assert!(deduped.split > 0, "in one file a star is a chain");
    }

    #[test]
    fn pairs_and_singletons() {
        let c = cluster(4, &[(2, 3)]);
        assert_eq!(c.of, [0, 1, 2, 2]);
        let c = cluster(0, &[]);
        assert!(c.of.is_empty());
    }

    proptest! {
        /// The same pairs in another order of rows give the same partition
        /// when the pair order (by strength) is kept.
        #[test]
        fn partition_does_not_depend_on_row_numbers(
            pairs in proptest::collection::vec((0u32..12, 0u32..12), 0..30),
            shift in 0u32..12,
        ) {
            let pairs: Vec<(u32, u32)> = pairs.into_iter().filter(|(a, b)| a != b).collect();
            let n = 12usize;
            let perm = |x: u32| (x + shift) % n as u32;
            let moved: Vec<(u32, u32)> = pairs.iter().map(|&(a, b)| (perm(a), perm(b))).collect();
            let c1 = cluster(n, &pairs);
            let c2 = cluster(n, &moved);
            for a in 0..n as u32 {
                for b in 0..n as u32 {
                    let same1 = c1.of[a as usize] == c1.of[b as usize];
                    let same2 = c2.of[perm(a) as usize] == c2.of[perm(b) as usize];
                    prop_assert_eq!(same1, same2);
                }
            }
        }
    }
}
