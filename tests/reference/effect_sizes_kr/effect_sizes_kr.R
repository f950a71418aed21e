# Reference values for tests/analyses/test_effect_sizes_kr.py: effect_sizes(growth_model(
# sample, predictors = "format", ddf = "kenward-roger"[, time_method = "piecewise", knots = 4]),
# group = "format", duration = 12). d = L'b / SD_raw, L'b the model-implied individual - group
# difference at D = 12 sessions since the first; under Kenward-Roger its SE is
# sqrt(L' Phi_A L) / SD_raw with Phi_A = pbkrtest::vcovAdj(fit), the adjusted covariance that
# lmerTest's summary(fit, ddf = "Kenward-Roger") and emmeans (lmer.df = "kenward-roger") use.
# SD_raw is the pooled within-format SD of the PHQ-9 at time 0 (df = n - 2).
# Run from the repo root: Rscript tests/reference/effect_sizes_kr/effect_sizes_kr.R
# Input: panel.csv (written by make_panel.py). Output: effect_sizes_kr.csv (quantity, value,
# r_call: the R expression beside each number). The piecewise time terms are recoded here.
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(pbkrtest); library(emmeans)
})
here <- "tests/reference/effect_sizes_kr"
d <- read.csv(file.path(here, "panel.csv"), stringsAsFactors = FALSE)
d$format <- factor(d$format)
emm_options(pbkrtest.limit = 1e4)           # emmeans skips KR above 3000 rows otherwise
D <- 12
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6))
d$time_p1 <- pmin(d$time, 4)                 # prep.time_code(method = "piecewise", knots = 4)
d$time_p2 <- pmax(d$time - 4, 0)
base <- d[d$time == 0, ]
ss <- sum(tapply(base$phq9_total, base$format, function(v) sum((v - mean(v))^2)))
df_sd <- nrow(base) - 2
sd_raw <- sqrt(ss / df_sd)
cases <- list(
  session = list(terms = "time", codes = D),
  pw4 = list(terms = c("time_p1", "time_p2"), codes = c(4, D - 4))
)
rows <- list(
  c("all", "sd_raw", sd_raw, "sqrt(sum over format of sum((y0 - mean(y0))^2) / (n - 2)), y0 = phq9_total at time 0"),
  c("all", "df_sd", df_sd, "nrow(d[d$time == 0, ]) - 2"),
  c("all", "duration", D, "D")
)
add <- function(case, quantity, value, call) {
  rows[[length(rows) + 1]] <<- c(case, quantity, format(value, digits = 17), call)
}
for (name in names(cases)) {
  terms <- cases[[name]]$terms
  codes <- cases[[name]]$codes
  f <- paste("phq9_total ~", paste(terms, collapse = " + "), "+ format +",
             paste0(terms, ":format", collapse = " + "), "+ (1 | therapist_id) + (1 +",
             paste(terms, collapse = " + "), "| client_id)")
  fit <- lmerTest::lmer(as.formula(f), data = d, REML = TRUE, control = ctrl)
  b <- fixef(fit)
  V <- as.matrix(vcov(fit))
  VA <- as.matrix(vcovAdj(fit))
  inter <- paste0(terms, ":formatindividual")
  L <- setNames(numeric(length(b)), names(b))
  L[inter] <- codes
  diff <- sum(L * b)
  se_unadj <- sqrt(drop(t(L) %*% V %*% L))
  se_kr <- sqrt(drop(t(L) %*% VA %*% L))
  con <- contest(fit, matrix(L, nrow = 1), ddf = "Kenward-Roger", joint = FALSE)
  # emmeans: change from 0 to D, individual - group (time terms at their codes at 0 and D)
  at0 <- setNames(as.list(numeric(length(terms))), terms)
  atD <- setNames(as.list(codes), terms)
  em_rows <- lapply(list(at0, atD), function(a) suppressMessages(emmeans(
    fit, ~ format, at = a, lmer.df = "kenward-roger")))
  em_grid <- rbind(em_rows[[1]], em_rows[[2]])   # rows: group@0, individual@0, group@D, individual@D
  em <- summary(contrast(em_grid, list(dd = c(1, -1, -1, 1))))
  dd <- diff / sd_raw
  add(name, "formula", f, "formula of lmer(..., REML = TRUE)")
  for (j in seq_along(terms)) {
    add(name, paste0("b:", inter[j]), b[[inter[j]]], sprintf("fixef(fit)['%s']", inter[j]))
    add(name, paste0("b_se:", inter[j]), sqrt(VA[inter[j], inter[j]]),
        sprintf("sqrt(diag(vcovAdj(fit)))['%s']", inter[j]))
    add(name, paste0("b_se_unadjusted:", inter[j]), sqrt(V[inter[j], inter[j]]),
        sprintf("sqrt(diag(vcov(fit)))['%s']", inter[j]))
  }
  add(name, "difference", diff, "sum(L * fixef(fit)), L = codes at D on the time:format terms")
  add(name, "difference_se", se_kr, "sqrt(t(L) %*% vcovAdj(fit) %*% L)")
  add(name, "difference_se_unadjusted", se_unadj, "sqrt(t(L) %*% vcov(fit) %*% L)")
  add(name, "contest_estimate", con$Estimate, "contest(fit, L, ddf = 'Kenward-Roger', joint = FALSE)$Estimate")
  add(name, "contest_se", con[["Std. Error"]], "contest(fit, L, ddf = 'Kenward-Roger', joint = FALSE)$'Std. Error'")
  add(name, "emmeans_estimate", em$estimate,
      "contrast(rbind(emmeans(fit, ~format, at = time 0), emmeans(..., at = time D), lmer.df = 'kenward-roger', pbkrtest.limit = 1e4), c(1,-1,-1,1))$estimate")
  add(name, "emmeans_se", em$SE, "the same contrast's SE")
  add(name, "d", dd, "difference / sd_raw")
  add(name, "se_fixed", se_kr / sd_raw, "difference_se / sd_raw (delta_sd_fixed)")
  add(name, "se_delta", sqrt((se_kr / sd_raw)^2 + dd^2 / (2 * df_sd)),
      "sqrt(se_fixed^2 + d^2 / (2 * df_sd)) (delta)")
  add(name, "se_delta_unadjusted", sqrt((se_unadj / sd_raw)^2 + dd^2 / (2 * df_sd)),
      "sqrt((difference_se_unadjusted / sd_raw)^2 + d^2 / (2 * df_sd))")
}
out <- as.data.frame(do.call(rbind, rows), stringsAsFactors = FALSE)
names(out) <- c("case", "quantity", "value", "r_call")
write.csv(out, file.path(here, "effect_sizes_kr.csv"), row.names = FALSE)
print(out[, 1:3])
