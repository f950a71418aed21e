# GLMM families against lme4::glmer / glmer.nb and glmmTMB (issue 14), on data that ship
# with lme4, mlmRev and glmmTMB.
#
# Run from the repository root:
#     Rscript tests/reference/glmm_families/glmm.R
# Writes the data CSVs (exported from the packages and READ BACK, so R fits the numbers a
# Python reader sees) and tests/reference/glmm_families/glmm.json.
#
# glmm.json:
#   models[]   one entry per fit: the exact R call, data file, family/link, nAGQ;
#              result   = the best tight fit (tolPwrss 1e-14, bobyqa then Nelder_Mead and
#                         nloptwrap restarts; see issue14_common.R), with lme4's
#                         sqrt(diag(vcov(fit))), coef(summary(fit)) (z, p), theta, VarCorr,
#                         logLik, deviance, AIC, and an accurate-Hessian SE;
#              fitting  = every optimiser candidate and the lme4-default fit (warnings);
#              glmmTMB  = the same model fitted by glmmTMB (Laplace; exact AD Hessian), a
#                         cross-check of fixef / SE / logLik for every Laplace fit.
#   lrt[]      anova(m0, m1) between nested fits (ids refer to models[]).
suppressPackageStartupMessages({
  library(lme4)
  library(glmmTMB)
  library(jsonlite)
})
source("tests/reference/issue14_common.R")
here <- "tests/reference/glmm_families"

# ---- data ----------------------------------------------------------------------------
exports <- list(
  cbpp = list(data = lme4::cbpp, source = "lme4::cbpp", factors = c("herd", "period")),
  contraception = list(data = mlmRev::Contraception, source = "mlmRev::Contraception",
                       factors = c("woman", "district", "use", "livch", "urban")),
  grouseticks = list(data = lme4::grouseticks[, c("INDEX", "TICKS", "BROOD", "HEIGHT", "YEAR",
                                                  "LOCATION")],
                     source = "lme4::grouseticks (column cHEIGHT dropped)",
                     factors = c("INDEX", "BROOD", "YEAR", "LOCATION")),
  owls = list(data = glmmTMB::Owls[, c("Nest", "FoodTreatment", "SexParent", "ArrivalTime",
                                       "SiblingNegotiation", "BroodSize")],
              source = "glmmTMB::Owls (columns NegPerChick and logBroodSize dropped)",
              factors = c("Nest", "FoodTreatment", "SexParent")),
  verbagg = list(data = lme4::VerbAgg[, c("id", "item", "Anger", "Gender", "btype", "situ",
                                          "mode", "r2")],
                 source = paste("lme4::VerbAgg (columns id, item, Anger, Gender, btype, situ,",
                                "mode, r2; the ordinal resp dropped)"),
                 factors = c("id", "item", "Gender", "btype", "situ", "mode", "r2"))
)
data_meta <- list()
for (nm in names(exports)) {
  e <- exports[[nm]]
  d <- e$data
  for (v in names(d)) if (is.factor(d[[v]])) d[[v]] <- as.character(d[[v]])
  file <- paste0(nm, ".csv")
  write.csv(d, file.path(here, file), row.names = FALSE)
  back <- read.csv(file.path(here, file), stringsAsFactors = FALSE)
  for (v in e$factors) back[[v]] <- factor(back[[v]])
  assign(nm, back, envir = globalenv())
  data_meta[[file]] <- list(
    source = e$source,
    nrow = nrow(back),
    columns = vec(names(back)),
    "read as" = paste0("read.csv(file, stringsAsFactors = FALSE); then factor() on: ",
                       paste(e$factors, collapse = ", ")),
    factors = vec(e$factors),
    "levels (R order; first is the reference)" = factor_levels(back)
  )
}
data_meta[["verbagg.csv"]]$note <- paste(
  "In lme4::VerbAgg, mode has levels c('want', 'do'); after the CSV round trip factor()",
  "sorts them to c('do', 'want'). mode is not used by the models here.")

# ---- models --------------------------------------------------------------------------
cb <- "cbind(incidence, size - incidence) ~ period + (1 | herd), data = cbpp"
contra_fixed <- "use ~ age + I(age^2) + urban + livch"
models <- list(
  # cbpp: binomial with trials; logit Laplace and AGQ; probit
  list(id = "cbpp_logit", call = sprintf("glmer(%s, family = binomial)", cb)),
  list(id = "cbpp_logit_agq9", call = sprintf("glmer(%s, family = binomial, nAGQ = 9)", cb)),
  list(id = "cbpp_logit_agq10", call = sprintf("glmer(%s, family = binomial, nAGQ = 10)", cb)),
  list(id = "cbpp_logit_agq25", call = sprintf("glmer(%s, family = binomial, nAGQ = 25)", cb)),
  list(id = "cbpp_logit_null",
       call = "glmer(cbind(incidence, size - incidence) ~ 1 + (1 | herd), data = cbpp, family = binomial)"),
  list(id = "cbpp_probit", call = sprintf("glmer(%s, family = binomial(link = \"probit\"))", cb)),
  list(id = "cbpp_probit_agq10",
       call = sprintf("glmer(%s, family = binomial(link = \"probit\"), nAGQ = 10)", cb)),
  # Contraception: binary Y/N factor response
  list(id = "contra_int",
       call = sprintf("glmer(%s + (1 | district), data = contraception, family = binomial)", contra_fixed)),
  list(id = "contra_int_agq10",
       call = sprintf("glmer(%s + (1 | district), data = contraception, family = binomial, nAGQ = 10)", contra_fixed)),
  list(id = "contra_int_noquad",
       call = "glmer(use ~ age + urban + livch + (1 | district), data = contraception, family = binomial)"),
  list(id = "contra_urban_slope",
       call = sprintf("glmer(%s + (1 + urban | district), data = contraception, family = binomial)", contra_fixed)),
  list(id = "contra_age_slope_uncorr",
       call = sprintf("glmer(%s + (1 | district) + (0 + age | district), data = contraception, family = binomial)", contra_fixed)),
  list(id = "contra_nested",
       call = sprintf("glmer(%s + (1 | district/urban), data = contraception, family = binomial)", contra_fixed)),
  list(id = "contra_probit_slope",
       call = sprintf("glmer(%s + (1 + urban | district), data = contraception, family = binomial(link = \"probit\"))", contra_fixed)),
  # VerbAgg: binary, crossed person x item; correlated random slope
  list(id = "verbagg_crossed",
       call = "glmer(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), data = verbagg, family = binomial)"),
  list(id = "verbagg_crossed_slope",
       call = "glmer(r2 ~ Anger + Gender + btype + situ + (1 + situ | id) + (1 | item), data = verbagg, family = binomial)"),
  # grouseticks: Poisson, several scalar terms (brood within location; observation level)
  list(id = "grouse_pois",
       call = "glmer(TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION), data = grouseticks, family = poisson)"),
  list(id = "grouse_pois_olre",
       call = "glmer(TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION) + (1 | INDEX), data = grouseticks, family = poisson)"),
  list(id = "grouse_pois_unscaled",
       call = "glmer(TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | LOCATION), data = grouseticks, family = poisson)"),
  # Owls: Poisson with offset
  list(id = "owls_pois",
       call = "glmer(SiblingNegotiation ~ FoodTreatment * SexParent + offset(log(BroodSize)) + (1 | Nest), data = owls, family = poisson)"),
  list(id = "owls_pois_agq10",
       call = "glmer(SiblingNegotiation ~ FoodTreatment * SexParent + offset(log(BroodSize)) + (1 | Nest), data = owls, family = poisson, nAGQ = 10)"),
  list(id = "owls_pois_additive",
       call = "glmer(SiblingNegotiation ~ FoodTreatment + SexParent + offset(log(BroodSize)) + (1 | Nest), data = owls, family = poisson)")
)

family_of <- function(fit) {
  f <- family(fit)
  list(family = f$family, link = f$link)
}

entries <- list()
fits <- list()
for (m in models) {
  cat("fitting", m$id, "\n")
  res <- fit_mer(m$call)
  fits[[m$id]] <- res$best
  fam <- family_of(res$best)
  entry <- list(
    id = m$id,
    call = m$call,
    data_file = paste0(sub(".*data = ([a-z]+).*", "\\1", m$call), ".csv"),
    family = fam$family,
    link = fam$link,
    nAGQ = unname(res$best@devcomp$dims[["nAGQ"]]),
    result = res$info,
    fitting = res$record
  )
  tc <- tmb_call_of(m$call)
  if (!is.null(tc)) {
    cat("  glmmTMB\n")
    tm <- fit_tmb(tc)
    ti <- tmb_info(tm$fit)
    entry$glmmTMB <- c(tm$record, list(result = ti), compare_tmb(res$info, ti))
  }
  entries[[m$id]] <- entry
}

# ---- nAGQ > 1: lme4's logLik omits the saturated-model constant ------------------------
# For nAGQ > 1 lme4 builds the deviance from the deviance residuals, so -2*logLik(fit) is
# the AGQ -2 log-likelihood MINUS sum_i -2 log f(y_i | mu_i = y_i). (Zero for 0/1 data;
# not zero for binomial with trials or Poisson.) Verified here by adaptive integration.
saturated_m2ll <- function(fit) {
  y <- getME(fit, "y"); w <- weights(fit); fam <- family(fit)$family
  if (fam == "binomial") sum(-2 * dbinom(round(w * y), round(w), y, log = TRUE))
  else if (fam == "poisson") sum(-2 * dpois(y, y, log = TRUE))
  else NA
}
exact_m2ll <- function(fit) {
  fam <- family(fit); y <- getME(fit, "y"); w <- weights(fit)
  eta0 <- drop(getME(fit, "X") %*% fixef(fit)) + getME(fit, "offset")
  th <- getME(fit, "theta"); g <- getME(fit, "flist")[[1]]
  logf <- function(i, eta) {
    mu <- fam$linkinv(eta)
    if (fam$family == "binomial") sum(dbinom(round(w[i] * y[i]), round(w[i]), mu, log = TRUE))
    else sum(dpois(y[i], mu, log = TRUE))
  }
  ll <- 0
  for (lev in levels(g)) {
    i <- which(g == lev)
    # integrate on the scale of the conditional mode for stability
    h <- function(u) sapply(u, function(uu) logf(i, eta0[i] + th * uu) + dnorm(uu, log = TRUE))
    m <- optimize(h, c(-10, 10), maximum = TRUE)$maximum
    c0 <- h(m)
    ll <- ll + c0 + log(integrate(function(u) exp(h(u) - c0), m - 15, m + 15, rel.tol = 1e-12)$value)
  }
  -2 * ll
}
for (id in names(entries)) {
  nq <- entries[[id]]$nAGQ
  if (!is.null(nq) && nq > 1) {
    f <- fits[[id]]
    sat <- saturated_m2ll(f)
    entries[[id]]$agq_loglik <- list(
      "saturated constant sum(-2 log f(y | mu = y))" = sat,
      "-2*logLik(fit) + constant (comparable with the Laplace fits)" = -2 * as.numeric(logLik(f)) + sat,
      "logLik(fit) - constant/2 (comparable with the Laplace fits)" = as.numeric(logLik(f)) - sat / 2,
      "-2 log-likelihood by adaptive integrate() at the fitted parameters" = exact_m2ll(f),
      note = paste("lme4 1.1-31: for nAGQ > 1, -2*logLik(fit) = exact AGQ -2 log-likelihood",
                   "minus the saturated constant; AIC/BIC/logLik of nAGQ > 1 fits are not",
                   "comparable with Laplace fits unless corrected.")
    )
  }
}

# ---- negative binomial: glmer.nb and glmmTMB nbinom2 / nbinom1 ----------------------------
nb_formula <- "SiblingNegotiation ~ FoodTreatment * SexParent + offset(log(BroodSize)) + (1 | Nest)"
cat("fitting owls_nb (glmer.nb)\n")
nb_call <- sprintf("glmer.nb(%s, data = owls)", nb_formula)
nb_def <- timed(eval(parse(text = nb_call)))
# glmer.nb(..., tol = ) cannot be used in lme4 1.1-31 (tol is forwarded to glmer(): "unused
# argument"), so the tight fit replays glmer.nb's own steps: a negative.binomial(theta) glmer
# at the default fit's theta, then lme4:::optTheta() (optimize() on log theta) with tol 1e-10.
nb_tight_fit <- function(tol_pwrss) {
  th0 <- getME(nb_def$value, "glmer.nb.theta")
  ctl <- glmer_tight(tol_pwrss)
  g1 <- glmer(as.formula(nb_formula), data = owls,
              family = MASS::negative.binomial(theta = th0), control = ctl)
  lme4:::optTheta(g1, interval = log(th0) + c(-3, 3), tol = 1e-10, control = ctl)
}
nb_tol <- NA
for (tp in c(1e-14, 1e-13, 1e-12)) {
  nb_tight <- tryCatch(timed(nb_tight_fit(tp)), error = function(e) e)
  if (!inherits(nb_tight, "error")) { nb_tol <- tp; break }
}
nb_fit <- nb_tight$value
nb_devfun <- glmer(as.formula(nb_formula), data = owls,
                   family = MASS::negative.binomial(theta = getME(nb_fit, "glmer.nb.theta")),
                   control = glmer_tight(nb_tol), devFunOnly = TRUE)
nb_info <- c(
  mer_info(nb_fit),
  list("getME(fit, 'glmer.nb.theta')" = getME(nb_fit, "glmer.nb.theta")),
  accurate_se(nb_devfun, c(getME(nb_fit, "theta"), fixef(nb_fit)), length(getME(nb_fit, "theta")),
              names(fixef(nb_fit)), sqrt(diag(as.matrix(vcov(nb_fit)))))
)
entries[["owls_nb_glmer"]] <- list(
  id = "owls_nb_glmer",
  call = nb_call,
  data_file = "owls.csv",
  family = family(nb_fit)$family,
  link = family(nb_fit)$link,
  nAGQ = 1,
  result = nb_info,
  fitting = list(
    "tight fit" = paste0("glmer(", nb_formula, ", data = owls, family = MASS::negative.binomial(theta = <default glmer.nb theta>), control = glmer_tight(tolPwrss)); then lme4:::optTheta(g1, interval = log(theta0) + c(-3, 3), tol = 1e-10, control = same), i.e. glmer.nb's own algorithm with tight tolerances"),
    tolPwrss = nb_tol,
    "warnings (tight)" = nb_tight$warnings,
    "messages (tight)" = nb_tight$messages,
    seconds = nb_tight$seconds,
    "default fit" = list(
      call = nb_call,
      "getME(fit, 'glmer.nb.theta')" = getME(nb_def$value, "glmer.nb.theta"),
      "as.numeric(logLik(fit))" = as.numeric(logLik(nb_def$value)),
      "fixef(fit)" = named(fixef(nb_def$value)),
      "sqrt(diag(vcov(fit)))" = named(sqrt(diag(as.matrix(vcov(nb_def$value))))),
      warnings = nb_def$warnings,
      messages = nb_def$messages,
      seconds = nb_def$seconds
    )
  ),
  note = paste(
    "glmer.nb maximises over the NB theta by optimize() on log(theta), refitting glmer with",
    "negative.binomial(theta) at each step; the reported vcov treats theta as FIXED (its",
    "Hessian is over the random-effect theta and beta only). logLik's df counts theta",
    "(npar + 1). getME(fit, 'glmer.nb.theta') is the NB size: Var(y) = mu + mu^2/theta.")
)
for (fam in c("nbinom2", "nbinom1", "poisson")) {
  id <- paste0("owls_", fam, "_glmmTMB")
  cat("fitting", id, "\n")
  call <- sprintf("glmmTMB(%s, data = owls, family = %s)", nb_formula, fam)
  tm <- fit_tmb(call)
  ti <- tmb_info(tm$fit)
  fits[[id]] <- tm$fit
  entries[[id]] <- list(
    id = id, call = call, data_file = "owls.csv",
    family = family(tm$fit)$family, link = family(tm$fit)$link, nAGQ = 1,
    result = ti, fitting = tm$record,
    note = switch(fam,
      nbinom2 = paste("sigma(fit) is the NB2 size theta: Var(y) = mu + mu^2/theta (the same",
                      "parameter as glmer.nb's theta). glmmTMB's SEs come from the joint Hessian",
                      "over beta, the random-effect SD and log(theta)."),
      nbinom1 = "sigma(fit) is the NB1 dispersion phi: Var(y) = mu * (1 + phi). No glmer equivalent.",
      poisson = "glmmTMB Poisson of the same formula: equals glmer's owls_pois (Laplace).")
  )
}
entries[["owls_nb_glmer"]]$glmmTMB_nbinom2_comparison <- list(
  "theta glmer.nb - sigma(glmmTMB nbinom2)" =
    getME(nb_fit, "glmer.nb.theta") - sigma(fits[["owls_nbinom2_glmmTMB"]]),
  "logLik glmer.nb - glmmTMB nbinom2" =
    as.numeric(logLik(nb_fit)) - as.numeric(logLik(fits[["owls_nbinom2_glmmTMB"]])),
  "max relative fixef difference" = max(abs(fixef(nb_fit) - fixef(fits[["owls_nbinom2_glmmTMB"]])$cond) /
                                          abs(fixef(fits[["owls_nbinom2_glmmTMB"]])$cond)),
  "max relative SE difference (glmer.nb vs glmmTMB)" =
    max(abs(sqrt(diag(as.matrix(vcov(nb_fit)))) - sqrt(diag(vcov(fits[["owls_nbinom2_glmmTMB"]])$cond))) /
          sqrt(diag(vcov(fits[["owls_nbinom2_glmmTMB"]])$cond)))
)

# ---- likelihood-ratio tests ------------------------------------------------------------
lrts <- list(
  c("cbpp_logit_null", "cbpp_logit", "fixed effect period"),
  c("contra_int_noquad", "contra_int", "fixed effect I(age^2)"),
  c("contra_int", "contra_urban_slope", "random slope urban (correlated) | district"),
  c("contra_int", "contra_age_slope_uncorr", "uncorrelated random slope age | district"),
  c("contra_int", "contra_nested", "nested term (1 | district:urban)"),
  c("verbagg_crossed", "verbagg_crossed_slope", "random slope situ | id"),
  c("grouse_pois", "grouse_pois_olre", "observation-level term (1 | INDEX)"),
  c("owls_pois_additive", "owls_pois", "FoodTreatment:SexParent interaction")
)
lrt_out <- list()
for (l in lrts) {
  m0 <- fits[[l[1]]]; m1 <- fits[[l[2]]]
  a <- capture(anova(m0, m1))
  lrt_out[[length(lrt_out) + 1]] <- list(
    m0 = l[1], m1 = l[2], tests = l[3],
    call = "anova(m0, m1)",
    "anova(m0, m1)" = anova_frame(a$value),
    warnings = a$warnings
  )
}
# Poisson vs NB2 in glmmTMB (theta on the boundary at infinity: the chi-square(1) p is
# conservative; recorded as R prints it).
a <- capture(anova(fits[["owls_poisson_glmmTMB"]], fits[["owls_nbinom2_glmmTMB"]]))
lrt_out[[length(lrt_out) + 1]] <- list(
  m0 = "owls_poisson_glmmTMB", m1 = "owls_nbinom2_glmmTMB", tests = "NB2 vs Poisson (glmmTMB)",
  call = "anova(m0, m1)", "anova(m0, m1)" = anova_frame(a$value), warnings = a$warnings
)

notes <- list(
  "theta order" = paste(
    "getME(fit, 'theta') orders the random-effect terms by decreasing number of levels of",
    "the grouping factor (e.g. grouse_pois_olre: INDEX 403, BROOD 118, LOCATION 63);",
    "within a term it is the lower triangle of the Cholesky factor of the term's",
    "covariance, column-major ((1 + urban | district): [L11, L21, L22]). For binomial and",
    "Poisson the scale is 1, so theta is the absolute Cholesky factor."),
  "cbind" = paste(
    "cbind(s, f): trials n = s + f, y = s/n, prior weights n. Rows with n = 0 would be",
    "dropped from nobs but none exist here."),
  "factor response" = "A factor response: first level = 0 (failure), all other levels = 1.",
  "logLik and deviance" = paste(
    "-2*logLik(fit) = sum(family()$aic contributions, i.e. -2 log density incl. the",
    "log-choose / log(y!) constants) + |u|^2 + log|L|^2 (Laplace; AGQ replaces the last two",
    "for nAGQ > 1). deviance(fit) for a GLMM is sum(residuals(fit, 'deviance')^2) and is",
    "NOT -2*logLik; anova()'s 'deviance' column is -2*logLik."),
  "AGQ" = paste(
    "nAGQ > 1 (scalar random intercept only): the AGQ likelihood with nAGQ points; the",
    "fixed effects are optimised jointly with theta in stage 2 (as for Laplace).",
    "lme4's logLik / AIC / deviance for nAGQ > 1 OMIT the saturated-model constant",
    "sum_i -2 log f(y_i | mu_i = y_i) (for binomial with trials and Poisson; zero for 0/1",
    "data): cbpp Laplace logLik -92.03 vs nAGQ = 9 logLik -50.005. Each AGQ model's",
    "agq_loglik block gives the constant, the corrected value and an adaptive-integration",
    "check."),
  "vcov / SE" = paste(
    "sqrt(diag(vcov(fit))) (what coef(summary(fit)) uses for z and p) is lme4 1.1-31's",
    "Hessian-based vcov: beta block of 2*solve(H), H = finite-difference (step 1e-4)",
    "Hessian of the deviance over (theta, beta). It is noisy: up to ~0.5% off for poorly",
    "scaled coefficients. 'SE from accurate Hessian' (median over five numDeriv Richardson steps) and",
    "glmmTMB's SE (exact AD Hessian of the same Laplace likelihood) are precise versions of",
    "the same quantity; the beta block of the inverse Hessian does not depend on how theta",
    "is parameterised. 'sqrt(diag(vcov(fit, use.hessian = FALSE)))' is the RX-based SE",
    "with theta treated as known."),
  "precision of the optimum" = paste(
    "Each model's fitting$candidates shows the spread across optimisers. Where the",
    "deviance is flat (Contraception age, I(age^2)), fixed effects agree across",
    "optimisers and glmmTMB to ~1e-5 relative / 1e-4 SE; compare small coefficients on",
    "|diff| / SE rather than relative to the estimate."),
  "non-canonical links" = paste(
    "For non-canonical links (binomial probit; the NB log link of glmer.nb) lme4's PIRLS",
    "weights and the log-determinant of its Laplace approximation use the EXPECTED (Fisher)",
    "information, muEta^2 / variance; glmmTMB's Laplace uses the exact (observed) Hessian",
    "in u. The two approximations then differ: see each probit model's glmmTMB block",
    "(logLik differs by ~0.04 on cbpp, ~0.3 on Contraception) and owls_nb_glmer vs",
    "owls_nbinom2_glmmTMB. To reproduce glmer, use lme4's convention. For canonical links",
    "(logit, Poisson log) the two coincide and agree to ~1e-8 in logLik."),
  "tolPwrss" = paste(
    "lme4's default tolPwrss = 1e-7 (and even 1e-10) stops PIRLS early: the Laplace",
    "deviance is then biased upwards by ~1e-4 (Contraception) and the fixed effects shift",
    "by ~4e-5 relative. The tight fits use 1e-14.")
)

out <- list(
  versions = versions_info(),
  script = "tests/reference/glmm_families/glmm.R",
  notes = notes,
  data = data_meta,
  models = unname(entries),
  lrt = lrt_out
)
write_ref(out, file.path(here, "glmm.json"))

for (e in entries) {
  f <- e$fitting
  w <- c(f[["warnings (tight bobyqa fit)"]], f[["warnings (tight)"]])
  cat(sprintf("%-26s ll=%.8f tightwarn=%d defwarn=%d best=%s\n", e$id,
              e$result[["as.numeric(logLik(fit))"]], length(w),
              length(f[["default fit"]]$warnings), if (is.null(f[["best optimizer"]])) "-" else f[["best optimizer"]]))
  if (!is.null(e$glmmTMB)) {
    g <- e$glmmTMB
    cat(sprintf("    tmb: dfe=%.1e dfe/se=%.1e dse(lme4)=%.1e dse(acc)=%.1e dll=%.1e\n",
                g[["max relative fixef difference (glmer vs glmmTMB)"]],
                g[["max abs fixef difference / SE (glmer vs glmmTMB)"]],
                g[["max relative SE difference (lme4 sqrt(diag(vcov(fit))) vs glmmTMB)"]],
                if (is.null(g[["max relative SE difference (accurate-Hessian SE vs glmmTMB)"]])) NA else g[["max relative SE difference (accurate-Hessian SE vs glmmTMB)"]],
                g[["logLik difference (glmer - glmmTMB)"]]))
  }
}
