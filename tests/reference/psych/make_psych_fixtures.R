# Reference values for engagestats.reliability and engagestats.score from R psych.
# Run from this directory:  Rscript make_psych_fixtures.R
# Writes: bfi_items.csv, ability_items.csv (public datasets shipped with psych /
# psychTools), reliability.csv (one row per scale and statistic, with the R call
# that produced each number) and scores_agree.csv (psych::scoreItems scores).
suppressMessages({library(psych); library(psychTools)})
options(digits = 15)
cat("psych", as.character(packageVersion("psych")), "psychTools",
    as.character(packageVersion("psychTools")), "\n")

bfi_items <- bfi[, c(paste0("A", 1:5), paste0("C", 1:5), paste0("N", 1:5))]
write.csv(bfi_items, "bfi_items.csv", row.names = FALSE, na = "")
ab <- psychTools::ability
write.csv(ab, "ability_items.csv", row.names = FALSE, na = "")

rows <- list()
add <- function(scale, statistic, value, call) {
  rows[[length(rows) + 1]] <<- data.frame(scale = scale, statistic = statistic,
                                          value = unname(as.numeric(value)), r_call = call)
}
# Agreeableness with A1 reversed (7 - A1; psych reverses as max + min - x).
agree <- bfi_items[, paste0("A", 1:5)]
agree_r <- agree; agree_r$A1 <- 7 - agree_r$A1
scales <- list(
  bfi_agree = list(x = agree_r, expr = "bfi[A1..A5] with A1 -> 7 - A1"),
  bfi_neuro = list(x = bfi_items[, paste0("N", 1:5)], expr = "bfi[N1..N5]"),
  bfi_consc = list(x = {z <- bfi_items[, paste0("C", 1:5)]; z$C4 <- 7 - z$C4;
                        z$C5 <- 7 - z$C5; z}, expr = "bfi[C1..C5] with C4, C5 -> 7 - x"),
  ability = list(x = ab, expr = "psychTools::ability (16 items)")
)
for (nm in names(scales)) {
  x <- scales[[nm]]$x
  a <- alpha(x, warnings = FALSE)                       # pairwise (psych default)
  add(nm, "alpha_pairwise", a$total$raw_alpha, "alpha(x)$total$raw_alpha")
  add(nm, "feldt_low_pairwise", a$feldt$lower.ci, "alpha(x)$feldt$lower.ci")
  add(nm, "feldt_high_pairwise", a$feldt$upper.ci, "alpha(x)$feldt$upper.ci")
  add(nm, "n_pairwise", nrow(x), "nrow(x) (n used by alpha's Feldt CI)")
  xl <- na.omit(x)
  al <- alpha(xl, warnings = FALSE)                     # listwise
  add(nm, "alpha_listwise", al$total$raw_alpha, "alpha(na.omit(x))$total$raw_alpha")
  add(nm, "feldt_low_listwise", al$feldt$lower.ci, "alpha(na.omit(x))$feldt$lower.ci")
  add(nm, "feldt_high_listwise", al$feldt$upper.ci, "alpha(na.omit(x))$feldt$upper.ci")
  add(nm, "n_listwise", nrow(xl), "nrow(na.omit(x))")
  for (i in seq_len(ncol(x))) {
    it <- colnames(x)[i]
    add(nm, paste0("r_drop:", it), a$item.stats[i, "r.drop"], "alpha(x)$item.stats$r.drop")
    add(nm, paste0("alpha_drop:", it), a$alpha.drop[i, "raw_alpha"],
        "alpha(x)$alpha.drop$raw_alpha")
  }
  o <- suppressMessages(suppressWarnings(omega(x, nfactors = 1, plot = FALSE)))
  add(nm, "omega_total", o$omega.tot, "omega(x, nfactors = 1)$omega.tot (fm = 'minres')")
  # The same definition with the principal-axis iteration run to convergence
  # (the minres solution; engagestats iterates this way):
  r <- cor(x, use = "pairwise")
  f <- fa(r, 1, fm = "pa", min.err = 1e-14, max.iter = 1e5)
  k <- sign(f$loadings[, 1]); k[k == 0] <- 1
  rf <- diag(k) %*% r %*% diag(k)
  add(nm, "omega_total_pa_tight", (sum(rf) - sum(1 - f$communality)) / sum(rf),
      "(sum(R) - sum(1 - h2)) / sum(R), h2 = fa(R, 1, fm='pa', min.err=1e-14)$communality")
}
out <- do.call(rbind, rows)
write.csv(out, "reliability.csv", row.names = FALSE)

# Scale scores with reversed items and missing answers (impute = "none").
keys <- make.keys(bfi_items, list(agree = c("-A1", "A2", "A3", "A4", "A5"),
                                  neuro = paste0("N", 1:5)))
s_mean <- suppressWarnings(scoreItems(keys, bfi_items, impute = "none", totals = FALSE))
s_tot <- suppressWarnings(scoreItems(keys, bfi_items, impute = "none", totals = TRUE))
sc <- data.frame(
  row = seq_len(nrow(bfi_items)) - 1,
  agree_mean = s_mean$scores[, "agree"], neuro_mean = s_mean$scores[, "neuro"],
  agree_sum_available = s_tot$scores[, "agree"], neuro_sum_available = s_tot$scores[, "neuro"]
)
write.csv(sc, "scores_bfi.csv", row.names = FALSE, na = "")
cat("columns of scores_bfi.csv: *_mean = scoreItems(keys, items, impute='none', totals=FALSE)$scores;",
    "*_sum_available = scoreItems(keys, items, impute='none', totals=TRUE)$scores\n")
